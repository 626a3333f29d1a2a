//! The go-plugin services served beside the provider: controller (shutdown), stdio and broker.

use std::pin::Pin;

use futures_util::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use crate::proto::plugin::{
    ConnInfo, Empty, StdioData, grpc_broker_server::GrpcBroker, grpc_controller_server::GrpcController,
    grpc_stdio_server::GrpcStdio,
};

/// Answers `Shutdown` by cancelling the server's shutdown token. Terraform calls it each time it
/// is done with a provider process and kills the process two seconds later if it is still
/// there, so exiting promptly saves those seconds on every start.
pub(crate) struct Controller {
    pub(crate) shutdown: CancellationToken,
    /// In debug mode the user owns the process's lifetime; Shutdown is then only logged.
    pub(crate) exit_on_shutdown: bool,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        if self.exit_on_shutdown {
            tracing::debug!("shutdown requested by the plugin client");
            self.shutdown.cancel();
        } else {
            tracing::debug!("shutdown requested; ignored in debug mode");
        }
        Ok(Response::new(Empty {}))
    }
}

/// Streams nothing: stdout belongs to the handshake and logs go straight to stderr, which
/// go-plugin reads itself. An immediately finished stream is what the client expects then.
pub(crate) struct Stdio;

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    type StreamStdioStream = Pin<Box<dyn Stream<Item = Result<StdioData, Status>> + Send>>;

    async fn stream_stdio(&self, _request: Request<Empty>) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(Box::pin(futures_util::stream::empty())))
    }
}

/// Keeps the broker stream go-plugin opens on every connection, and never brokers anything.
/// The stream ends when the client closes it or the server shuts down, so that a graceful
/// shutdown does not wait on it.
pub(crate) struct Broker {
    pub(crate) shutdown: CancellationToken,
}

#[tonic::async_trait]
impl GrpcBroker for Broker {
    type StartStreamStream = Pin<Box<dyn Stream<Item = Result<ConnInfo, Status>> + Send>>;

    async fn start_stream(
        &self,
        request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let mut incoming = request.into_inner();
        let shutdown = self.shutdown.clone();
        let drained = async move {
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = async { while let Some(Ok(_)) = incoming.next().await {} } => {}
            }
        };
        // A stream that yields nothing and ends once `drained` completes.
        let stream = futures_util::stream::once(drained).filter_map(|()| async { None });
        Ok(Response::new(Box::pin(stream)))
    }
}
