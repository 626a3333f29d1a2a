//! Small hand-made HTTP servers on loopback, for answers no real server gives (bodies cut
//! short, oversized, echoing a header): what they share.

use std::io::Read;

use tokio::io::{AsyncRead, AsyncReadExt};

/// A request head longer than this is refused (`None`): a test's requests are far smaller.
pub const MAX_HEAD: usize = 64 * 1024;

fn ends_head(head: &[u8]) -> bool {
    head.windows(4).any(|w| w == b"\r\n\r\n")
}

/// Reads a request up to the end of its head (`\r\n\r\n`); `None` when the client hangs up
/// first or the head passes [`MAX_HEAD`]. The bytes read so far, head and whatever followed it
/// in the same reads.
pub async fn read_request_head<S: AsyncRead + Unpin>(s: &mut S) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    while !ends_head(&head) {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) if head.len() + n > MAX_HEAD => return None,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    }
    Some(head)
}

/// [`read_request_head`] for a blocking stream (give it a read timeout).
pub fn read_request_head_blocking<S: Read>(s: &mut S) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    while !ends_head(&head) {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) if head.len() + n > MAX_HEAD => return None,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    }
    Some(head)
}
