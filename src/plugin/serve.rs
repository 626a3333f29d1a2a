//! Serving: the listener (unix socket, else loopback TCP), TLS per connection, the gRPC router
//! with every service go-plugin expects, and shutdown.

#[cfg(unix)]
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
#[cfg(unix)]
use tokio::net::UnixListener;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

use super::handshake::Address;
use super::services::{Broker, Controller, Stdio};
use crate::proto::plugin::{
    grpc_broker_server::GrpcBrokerServer, grpc_controller_server::GrpcControllerServer,
    grpc_stdio_server::GrpcStdioServer,
};
use crate::proto::tfplugin6::provider_server::{Provider, ProviderServer};

/// Terraform's own gRPC message limit; we accept and send messages up to the same size.
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;
/// How long a connecting client may take to finish its TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// After `Shutdown`, in-flight calls get this long to finish before the process exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

#[derive(Debug, thiserror::Error)]
pub(crate) enum ServeError {
    #[error("could not listen on {what}: {source}")]
    Listen { what: String, source: std::io::Error },
    #[error("no free TCP port in {min}..={max}")]
    NoPort { min: u16, max: u16 },
    #[error("the gRPC server failed: {0}")]
    Grpc(#[from] tonic::transport::Error),
}

/// A bound listener and the address to announce for it.
pub(crate) struct Listener {
    kind: ListenerKind,
    pub(crate) address: Address,
}

enum ListenerKind {
    #[cfg(unix)]
    Unix(UnixListener),
    Tcp(TcpListener),
}

impl Listener {
    /// Binds a unix socket in `dir` (or the temp dir), as Go plugins do on Unix; falls back to
    /// loopback TCP in the port range when a socket cannot be made.
    #[cfg(unix)]
    pub(crate) async fn bind(
        dir: Option<&str>,
        min_port: Option<u16>,
        max_port: Option<u16>,
    ) -> Result<Listener, ServeError> {
        let dir = dir.map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
        let path = dir.join(format!("plugin{}", unique_suffix()));
        match UnixListener::bind(&path) {
            Ok(listener) => Ok(Listener { kind: ListenerKind::Unix(listener), address: Address::Unix(path) }),
            Err(err) => {
                tracing::debug!(path = %path.display(), error = %err, "unix socket unavailable, using TCP");
                Self::bind_tcp(min_port, max_port).await
            }
        }
    }

    /// Binds loopback TCP in the port range, as Go plugins do on Windows (`dir` is for unix
    /// sockets only).
    #[cfg(not(unix))]
    pub(crate) async fn bind(
        _dir: Option<&str>,
        min_port: Option<u16>,
        max_port: Option<u16>,
    ) -> Result<Listener, ServeError> {
        Self::bind_tcp(min_port, max_port).await
    }

    /// Binds the first free loopback TCP port in the range (go-plugin's default range,
    /// 10000 to 25000, where `PLUGIN_MIN_PORT`/`PLUGIN_MAX_PORT` do not set it).
    async fn bind_tcp(min_port: Option<u16>, max_port: Option<u16>) -> Result<Listener, ServeError> {
        let (min, max) = (min_port.unwrap_or(10000), max_port.unwrap_or(25000));
        for port in min..=max {
            if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await {
                let addr =
                    listener.local_addr().map_err(|source| ServeError::Listen { what: "127.0.0.1".into(), source })?;
                return Ok(Listener { kind: ListenerKind::Tcp(listener), address: Address::Tcp(addr) });
            }
        }
        Err(ServeError::NoPort { min, max })
    }

    async fn accept(&self) -> std::io::Result<Box<dyn Io>> {
        Ok(match &self.kind {
            #[cfg(unix)]
            ListenerKind::Unix(l) => Box::new(l.accept().await?.0),
            ListenerKind::Tcp(l) => {
                let (stream, _) = l.accept().await?;
                stream.set_nodelay(true)?;
                Box::new(stream)
            }
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Address::Unix(path) = &self.address {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A name part unlikely to collide between concurrent provider processes.
#[cfg(unix)]
fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{}{:09}", std::process::id(), nanos)
}

/// Anything we can speak gRPC over.
trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// One accepted connection, plain or TLS, boxed so that tonic sees a single type.
struct Conn(Box<dyn Io>);

impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) {}
}

impl AsyncRead for Conn {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

/// How the server runs: with TLS or not, and whether `Shutdown` ends the process.
pub(crate) struct Options {
    pub(crate) tls: Option<Arc<rustls::ServerConfig>>,
    pub(crate) exit_on_shutdown: bool,
}

/// Serves `provider` and the go-plugin services on `listener` until `shutdown` fires (from the
/// controller's `Shutdown`, or from the caller).
pub(crate) async fn run<P: Provider>(
    provider: P,
    listener: Listener,
    options: Options,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_service_status("plugin", tonic_health::ServingStatus::Serving).await;

    let incoming = accept_loop(listener, options.tls, shutdown.clone());
    let provider = ProviderServer::new(provider)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let router = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(GrpcControllerServer::new(Controller {
            shutdown: shutdown.clone(),
            exit_on_shutdown: options.exit_on_shutdown,
        }))
        .add_service(GrpcStdioServer::new(Stdio))
        .add_service(GrpcBrokerServer::new(Broker { shutdown: shutdown.clone() }))
        .add_service(provider);

    let signal = shutdown.clone();
    let server = router.serve_with_incoming_shutdown(incoming, async move { signal.cancelled().await });
    tokio::select! {
        result = server => result?,
        _ = async { shutdown.cancelled().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
            tracing::debug!("shutdown grace period over; exiting with calls still open");
        }
    }
    Ok(())
}

/// Accepts connections (finishing TLS handshakes off the accept path) and yields the
/// authenticated ones. A client that fails the handshake, for instance one without Terraform's
/// certificate, is dropped and never reaches gRPC.
fn accept_loop(
    listener: Listener,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
) -> ReceiverStream<std::io::Result<Conn>> {
    let (tx, rx) = mpsc::channel(16);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        // The listener lives (and its socket file stays) until this task ends.
        loop {
            let io = tokio::select! {
                _ = shutdown.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok(io) => io,
                    Err(err) => {
                        tracing::warn!(error = %err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let tx = tx.clone();
            match &acceptor {
                None => {
                    if tx.send(Ok(Conn(io))).await.is_err() {
                        break;
                    }
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(io)).await {
                            Ok(Ok(stream)) => {
                                let _ = tx.send(Ok(Conn(Box::new(stream)))).await;
                            }
                            Ok(Err(err)) => tracing::warn!(error = %err, "refused a connection: TLS handshake failed"),
                            Err(_) => tracing::warn!("refused a connection: TLS handshake timed out"),
                        }
                    });
                }
            }
        }
    });
    ReceiverStream::new(rx)
}
