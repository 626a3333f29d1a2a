//! Small hand-made HTTP servers on loopback, for answers no real server gives (bodies cut
//! short, oversized, echoing a header): what they share.

use tokio::io::{AsyncRead, AsyncReadExt};

/// Reads a request up to the end of its head (`\r\n\r\n`); `None` when the client hangs up
/// first. The bytes read so far, head and whatever followed it in the same reads.
pub async fn read_request_head<S: AsyncRead + Unpin>(s: &mut S) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    }
    Some(head)
}
