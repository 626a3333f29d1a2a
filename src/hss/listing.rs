//! Complete reads of any `{"total_num": N, "data_list": [...]}` list of the project's APIs,
//! generic over the record type, the API path and its query: the hosts, the servers with one
//! port open, the fleet's port statistics (and, later, the port list of `paging`).
//!
//! # Overlapping pages
//!
//! Page 0 gives `total_num` (N); with a page size L, page k starts at offset k·(L − 1), so each
//! page's first record must equal the previous page's last. The later pages are read
//! concurrently, within the provider-wide limits. A read is accepted only when every page
//! reports the same `total_num`, every page holds exactly `min(L, N − offset)` records, and
//! every overlap matches; the list is then the pages concatenated, each overlap kept once.
//!
//! What this guarantees, for a list the API serves in a stable order: every record present
//! throughout the read is listed, no record that was never present is, and nothing is listed
//! twice that the API did not list twice (identical rows are genuine, and kept). A record
//! inserted or removed before a page boundary while the pages are read shifts the later pages
//! by one, which breaks an overlap or a page length, or changes `total_num`. An inconsistent
//! read is read again from scratch, up to [`MAX_LIST_ATTEMPTS`] times, then reported as
//! incomplete: a short or doubled list is never returned.
//!
//! Every HTTP request goes through the same transport as the port list (signing, retries,
//! provider-wide concurrency and rate limits) and is counted, retries and re-reads included,
//! in [`Listing::requests`].

use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use super::error::Error;
use super::model::{MAX_OFFSET, MAX_PAGE_SIZE, MIN_PAGE_SIZE};
use super::request::Endpoint;
use super::retry::{self, Policy};
use super::transport::{self, Transport};

/// How many times a whole list is read before giving up on an inconsistent result.
pub(crate) const MAX_LIST_ATTEMPTS: u32 = 3;
/// At most this many problems are spelled out in an error message.
const MAX_PROBLEMS_SHOWN: usize = 4;

/// One list to read: where, with which filters, in pages of which size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListRequest {
    /// The API path after `/v5/{project_id}/`, such as `host-management/hosts`.
    pub path: String,
    /// The query parameters other than `limit` and `offset` (unescaped).
    pub filters: Vec<(String, String)>,
    /// Records per page, sent as `limit` (10 to 200).
    pub page_size: u32,
}

impl ListRequest {
    /// The query of the page at `offset`.
    fn pairs(&self, offset: u64) -> Vec<(String, String)> {
        let mut pairs = self.filters.clone();
        pairs.push(("limit".to_owned(), self.page_size.to_string()));
        pairs.push(("offset".to_owned(), offset.to_string()));
        pairs
    }
}

/// One page as the APIs return it.
#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(bound = "T: DeserializeOwned")]
pub(crate) struct Page<T> {
    pub(crate) total_num: u64,
    #[serde(default = "Vec::new")]
    pub(crate) data_list: Vec<T>,
}

/// A complete list.
#[derive(Clone, Debug, PartialEq)]
pub struct Listing<T> {
    /// `total_num` as the API reported it (equal to `records.len()`).
    pub total_num: u64,
    /// Every record, in the API's order.
    pub records: Vec<T>,
    /// HTTP requests sent for it, retries and re-reads included.
    pub requests: u64,
}

/// Reads the complete list, re-reading it while it is inconsistent.
pub(crate) async fn list_all<T>(
    inner: &Transport,
    request: &ListRequest,
    cancel: &CancellationToken,
) -> Result<Listing<T>, Error>
where
    T: DeserializeOwned + PartialEq + Clone + Send,
{
    let page_size = request.page_size;
    if !(MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(Error::config(format!(
            "page_size must be between {MIN_PAGE_SIZE} and {MAX_PAGE_SIZE}, got {page_size}"
        )));
    }
    let endpoint = inner.endpoint.with_path(&request.path);
    let requests = AtomicU64::new(0);
    let mut last_problem = String::new();
    for attempt in 1..=MAX_LIST_ATTEMPTS {
        match read_once(inner, &endpoint, request, &requests, cancel).await? {
            Ok((total_num, records)) => {
                let requests = requests.load(Ordering::Relaxed);
                tracing::debug!(path = %request.path, records = records.len(), attempt, requests, "HSS list read");
                return Ok(Listing { total_num, records, requests });
            }
            Err(problem) => {
                tracing::warn!(
                    path = %request.path,
                    attempt,
                    max_attempts = MAX_LIST_ATTEMPTS,
                    problem = %problem,
                    "HSS list inconsistent"
                );
                last_problem = problem;
            }
        }
    }
    Err(Error::incomplete(format!("{}: {last_problem}", request.path), MAX_LIST_ATTEMPTS))
}

/// One GET of one page, with retries, counted.
async fn get_page<T: DeserializeOwned>(
    inner: &Transport,
    endpoint: &Endpoint,
    request: &ListRequest,
    offset: u64,
    requests: &AtomicU64,
    cancel: &CancellationToken,
) -> Result<Page<T>, Error> {
    let pairs = request.pairs(offset);
    retry::run(Policy::from_config(&inner.config), offset, cancel, |attempt| {
        requests.fetch_add(1, Ordering::Relaxed);
        transport::get_json_at(inner, endpoint, &pairs, offset, attempt)
    })
    .await
}

/// Reads every page once: `Ok(Err(problem))` when they do not add up.
async fn read_once<T>(
    inner: &Transport,
    endpoint: &Endpoint,
    request: &ListRequest,
    requests: &AtomicU64,
    cancel: &CancellationToken,
) -> Result<Result<(u64, Vec<T>), String>, Error>
where
    T: DeserializeOwned + PartialEq + Clone + Send,
{
    let first: Page<T> = get_page(inner, endpoint, request, 0, requests, cancel).await?;
    let total = first.total_num;
    let page_size = u64::from(request.page_size);
    let offsets = page_offsets(total, page_size)?;
    let fan_out = inner.config.max_concurrent_requests.max(1);
    let mut pages: Vec<(u64, Page<T>)> = stream::iter(offsets.into_iter().skip(1))
        .map(|offset| async move {
            let page = get_page(inner, endpoint, request, offset, requests, cancel).await?;
            Ok::<_, Error>((offset, page))
        })
        .buffer_unordered(fan_out)
        .try_collect()
        .await?;
    pages.push((0, first));
    pages.sort_unstable_by_key(|(offset, _)| *offset);
    Ok(assemble(total, page_size, pages).map(|records| (total, records)))
}

/// The offsets of every page for `total` records: 0, then steps of `page_size − 1` until a page
/// reaches the end. An error when a page would start beyond the API's maximum offset.
pub(crate) fn page_offsets(total: u64, page_size: u64) -> Result<Vec<u64>, Error> {
    let step = page_size.saturating_sub(1).max(1);
    let pages = if total <= page_size { 1 } else { 1 + (total - page_size).div_ceil(step) };
    let last = (pages - 1).saturating_mul(step);
    if last > MAX_OFFSET {
        return Err(Error::incomplete(
            format!(
                "total_num {total} would need offsets up to {last}, beyond the API's maximum offset of {MAX_OFFSET}"
            ),
            1,
        ));
    }
    Ok((0..pages).map(|k| k * step).collect())
}

/// How many requests a consistent read of `total` records takes.
#[cfg(test)]
fn pages_for(total: u64, page_size: u64) -> u64 {
    page_offsets(total, page_size).map_or(0, |o| o.len() as u64)
}

/// Checks the pages (in offset order) against `total` and the overlaps, and concatenates them.
pub(crate) fn assemble<T: PartialEq>(total: u64, page_size: u64, pages: Vec<(u64, Page<T>)>) -> Result<Vec<T>, String> {
    let mut problems: Vec<String> = Vec::new();
    if total == 0
        && let Some((_, page)) = pages.first()
        && !page.data_list.is_empty()
    {
        problems.push(format!("total_num is 0 but the page at offset 0 returned {} records", page.data_list.len()));
    }
    let mut previous: Option<&T> = None;
    for (offset, page) in &pages {
        if page.total_num != total {
            problems.push(format!("total_num changed from {total} to {} (page at offset {offset})", page.total_num));
        }
        let expected = page_size.min(total.saturating_sub(*offset));
        let got = page.data_list.len() as u64;
        if got != expected {
            problems.push(format!("page at offset {offset} returned {got} records, expected {expected}"));
        }
        if let Some(last) = previous
            && page.data_list.first() != Some(last)
        {
            problems.push(format!(
                "page at offset {offset} does not start with the last record of the page before: the list shifted"
            ));
        }
        previous = page.data_list.last();
    }
    if !problems.is_empty() {
        let more = problems.len().saturating_sub(MAX_PROBLEMS_SHOWN);
        problems.truncate(MAX_PROBLEMS_SHOWN);
        let mut text = problems.join("; ");
        if more > 0 {
            text.push_str(&format!("; and {more} more"));
        }
        return Err(text);
    }
    let mut records = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for (i, (_, page)) in pages.into_iter().enumerate() {
        records.extend(page.data_list.into_iter().skip(usize::from(i > 0)));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(total: u64, records: std::ops::Range<u64>) -> Page<u64> {
        Page { total_num: total, data_list: records.collect() }
    }

    /// The pages a faithful server returns for records `0..total`.
    fn pages(total: u64, page_size: u64) -> Vec<(u64, Page<u64>)> {
        page_offsets(total, page_size)
            .unwrap()
            .into_iter()
            .map(|o| (o, page(total, o..(o + page_size).min(total))))
            .collect()
    }

    #[test]
    fn offsets_overlap_by_one_and_reach_the_end() {
        assert_eq!(page_offsets(0, 200).unwrap(), [0]);
        assert_eq!(page_offsets(200, 200).unwrap(), [0]);
        assert_eq!(page_offsets(201, 200).unwrap(), [0, 199]);
        assert_eq!(page_offsets(399, 200).unwrap(), [0, 199]);
        assert_eq!(page_offsets(400, 200).unwrap(), [0, 199, 398]);
        assert_eq!(page_offsets(1000, 200).unwrap(), [0, 199, 398, 597, 796, 995]);
        assert_eq!(page_offsets(25, 10).unwrap(), [0, 9, 18]);
        assert_eq!(pages_for(300, 200), 2, "the fleet statistics of the benchmark: two pages");
        for total in 0..500 {
            for size in [10, 11, 57, 200] {
                let offsets = page_offsets(total, size).unwrap();
                let last = *offsets.last().unwrap();
                assert!(last + size >= total, "{total}/{size}: the last page reaches the end");
                assert!(offsets.len() == 1 || last < total, "{total}/{size}: no empty last page");
            }
        }
    }

    #[test]
    fn offsets_beyond_the_api_maximum_are_an_error() {
        for total in [MAX_OFFSET * 2, u64::MAX] {
            let e = page_offsets(total, 200).unwrap_err();
            assert!(e.is_incomplete() && e.to_string().contains("maximum offset of 2000000"), "{e}");
        }
    }

    #[test]
    fn consistent_pages_give_every_record_once() {
        for total in [0, 1, 9, 10, 11, 25, 199, 200, 201, 1000] {
            for size in [10, 200] {
                let got = assemble(total, size, pages(total, size)).unwrap();
                assert_eq!(got, (0..total).collect::<Vec<_>>(), "{total}/{size}");
            }
        }
    }

    #[test]
    fn identical_rows_are_kept() {
        // Records 0..25 where 9 and 10 are equal (a genuine duplicate at a page boundary).
        let data: Vec<u64> = (0..25).map(|r| if r == 10 { 9 } else { r }).collect();
        let pages = page_offsets(25, 10)
            .unwrap()
            .into_iter()
            .map(|o| {
                let end = (o as usize + 10).min(25);
                (o, Page { total_num: 25, data_list: data[o as usize..end].to_vec() })
            })
            .collect();
        assert_eq!(assemble(25, 10, pages).unwrap(), data);
    }

    #[test]
    fn a_shifted_page_is_caught() {
        // A record inserted at the front after page 0 was read: page 1 starts one record late.
        let mut p = pages(25, 10);
        p[1].1 = page(26, 8..18);
        let e = assemble(25, 10, p).unwrap_err();
        assert!(e.contains("total_num changed from 25 to 26"), "{e}");
        assert!(e.contains("page at offset 9 does not start with the last record"), "{e}");
        // One removed and one added elsewhere: total_num holds, the overlap does not.
        let mut p = pages(25, 10);
        p[1].1 = page(25, 10..20);
        let e = assemble(25, 10, p).unwrap_err();
        assert!(e.starts_with("page at offset 9 does not start with the last record of the page before"), "{e}");
        assert!(!e.contains("total_num"), "{e}");
    }

    #[test]
    fn short_pages_and_stray_records_are_caught() {
        let mut p = pages(25, 10);
        p[2].1 = page(25, 18..20);
        assert_eq!(assemble(25, 10, p).unwrap_err(), "page at offset 18 returned 2 records, expected 7");
        let e = assemble(0, 10, vec![(0, page(0, 0..3))]).unwrap_err();
        assert!(e.starts_with("total_num is 0 but the page at offset 0 returned 3 records"), "{e}");
        let many: Vec<(u64, Page<u64>)> = (0..10).map(|i| (i * 9, page(99, 0..1))).collect();
        assert!(assemble(99, 10, many).unwrap_err().ends_with("more"));
    }

    #[test]
    fn queries_carry_limit_and_offset_last() {
        let r = ListRequest {
            path: "asset/port/statistics".into(),
            filters: vec![("port".into(), "22".into())],
            page_size: 50,
        };
        assert_eq!(
            r.pairs(49),
            [("port".to_owned(), "22".to_owned()), ("limit".into(), "50".into()), ("offset".into(), "49".into())]
        );
    }
}
