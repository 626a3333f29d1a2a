//! Complete, concurrent paging: read page 0 for `total_num`, fetch the other pages concurrently
//! (bounded by the provider-wide limits), assemble them by offset, and verify the records account
//! for `total_num` exactly. An inconsistent read (short page, records repeated across pages,
//! `total_num` changing) is re-read from scratch, up to 3 reads, then reported as incomplete:
//! a short list is never returned.

use std::collections::HashSet;

use futures_util::stream::{self, StreamExt, TryStreamExt};
use tokio_util::sync::CancellationToken;

use super::error::Error;
use super::model::{MAX_OFFSET, MAX_PAGE_SIZE, MIN_PAGE_SIZE, PortList, PortPage, PortQuery, PortRecord};
use super::retry;
use super::transport::Transport;

/// How many times the whole list is read before giving up on an inconsistent result.
pub(crate) const MAX_LIST_ATTEMPTS: u32 = 3;
/// At most this many problems are spelled out in an error message.
const MAX_PROBLEMS_SHOWN: usize = 4;

/// Reads the complete list for `query`, re-reading it while it is inconsistent.
pub(crate) async fn list_all(
    inner: &Transport,
    query: &PortQuery,
    cancel: &CancellationToken,
) -> Result<PortList, Error> {
    let page_size = query.effective_page_size();
    if !(MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(Error::config(format!(
            "page_size must be between {MIN_PAGE_SIZE} and {MAX_PAGE_SIZE} (0 means {MAX_PAGE_SIZE}), got {page_size}"
        )));
    }
    let mut last_problem = String::new();
    for attempt in 1..=MAX_LIST_ATTEMPTS {
        match read_once(inner, query, u64::from(page_size), cancel).await? {
            Ok(list) => {
                tracing::debug!(
                    host_id = %query.host_id,
                    ports = list.ports.len(),
                    attempt,
                    "HSS port list read"
                );
                return Ok(list);
            }
            Err(problem) => {
                tracing::warn!(
                    host_id = %query.host_id,
                    attempt,
                    max_attempts = MAX_LIST_ATTEMPTS,
                    problem = %problem,
                    "HSS port list inconsistent"
                );
                last_problem = problem;
            }
        }
    }
    Err(Error::incomplete(last_problem, MAX_LIST_ATTEMPTS))
}

/// Reads every page once. `Ok(Err(problem))` when the pages do not add up.
async fn read_once(
    inner: &Transport,
    query: &PortQuery,
    page_size: u64,
    cancel: &CancellationToken,
) -> Result<Result<PortList, String>, Error> {
    let first: PortPage = retry::get_json(inner, &query.pairs(0), 0, cancel).await?;
    let total = first.total_num;
    if total == 0 {
        return Ok(if first.data_list.is_empty() {
            Ok(PortList::default())
        } else {
            Err(format!("total_num is 0 but the page at offset 0 returned {} records", first.data_list.len()))
        });
    }
    let offsets = later_offsets(total, page_size)?;
    // The provider-wide limits bound the requests in flight; bounding the local fan-out as well
    // keeps the number of waiting futures small for very long lists.
    let fan_out = inner.config.max_concurrent_requests.max(1);
    let mut pages: Vec<(u64, PortPage)> = stream::iter(offsets)
        .map(|offset| async move {
            let page: PortPage = retry::get_json(inner, &query.pairs(offset), offset, cancel).await?;
            Ok::<_, Error>((offset, page))
        })
        .buffer_unordered(fan_out)
        .try_collect()
        .await?;
    pages.push((0, first));
    pages.sort_unstable_by_key(|(offset, _)| *offset);
    Ok(assemble(total, page_size, pages))
}

/// The offsets of the pages after the first for `total` records (`total` > 0); an error when
/// the last page would start beyond the API's maximum offset.
fn later_offsets(total: u64, page_size: u64) -> Result<impl Iterator<Item = u64>, Error> {
    let pages = total.div_ceil(page_size.max(1));
    let last_offset = pages.saturating_sub(1).saturating_mul(page_size);
    if last_offset > MAX_OFFSET {
        return Err(Error::incomplete(
            format!(
                "total_num {total} would need offsets up to {last_offset}, beyond the API's maximum offset of {MAX_OFFSET}"
            ),
            1,
        ));
    }
    Ok((1..pages).map(move |i| i * page_size))
}

/// Checks the pages (in offset order) against `total` and concatenates them.
pub(crate) fn assemble(total: u64, page_size: u64, pages: Vec<(u64, PortPage)>) -> Result<PortList, String> {
    let mut problems: Vec<String> = Vec::new();
    let mut seen: HashSet<&PortRecord> = HashSet::new();
    for (offset, page) in &pages {
        if page.total_num != total {
            problems.push(format!("total_num changed from {total} to {} (page at offset {offset})", page.total_num));
        }
        let expected = page_size.min(total.saturating_sub(*offset));
        let got = page.data_list.len() as u64;
        if got != expected {
            problems.push(format!("page at offset {offset} returned {got} records, expected {expected}"));
        }
        // Identical records within one page may be genuine; across pages they mean the list
        // shifted between requests.
        let this_page: HashSet<&PortRecord> = page.data_list.iter().collect();
        let repeated = this_page.iter().filter(|r| seen.contains(*r)).count();
        if repeated > 0 {
            problems.push(format!(
                "page at offset {offset} repeats {repeated} record(s) already returned by an earlier page"
            ));
        }
        seen.extend(this_page);
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
    let ports: Vec<PortRecord> = pages.into_iter().flat_map(|(_, p)| p.data_list).collect();
    Ok(PortList { total_num: total, ports })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(port: i64) -> PortRecord {
        PortRecord { host_id: Some("h".into()), port: Some(port), port_type: Some("TCP".into()), ..Default::default() }
    }

    fn page(total: u64, ports: std::ops::Range<i64>) -> PortPage {
        PortPage { total_num: total, data_list: ports.map(rec).collect() }
    }

    fn offsets(total: u64, page_size: u64) -> Vec<u64> {
        later_offsets(total, page_size).unwrap().collect()
    }

    #[test]
    fn later_offsets_cover_total_exactly() {
        assert!(offsets(1, 200).is_empty());
        assert!(offsets(200, 200).is_empty());
        assert_eq!(offsets(201, 200), vec![200]);
        assert_eq!(offsets(450, 200), vec![200, 400]);
        let many = offsets(10_000, 200);
        assert_eq!(many.len(), 49);
        assert_eq!(many.last(), Some(&9_800));
        assert_eq!(offsets(95, 10).len(), 9);
    }

    #[test]
    fn offsets_beyond_the_api_maximum_are_an_error() {
        // The last page may start exactly at 2,000,000...
        assert_eq!(offsets(MAX_OFFSET + 200, 200).last(), Some(&MAX_OFFSET));
        // ...but not beyond, and absurd totals do not overflow or loop.
        for total in [MAX_OFFSET + 201, u64::MAX] {
            let e = later_offsets(total, 200).err().unwrap();
            assert!(e.is_incomplete());
            assert!(e.to_string().contains("beyond the API's maximum offset of 2000000"), "{e}");
        }
    }

    #[test]
    fn assembles_in_offset_order() {
        let list =
            assemble(25, 10, vec![(0, page(25, 0..10)), (10, page(25, 10..20)), (20, page(25, 20..25))]).unwrap();
        assert_eq!(list.total_num, 25);
        let ports: Vec<i64> = list.ports.iter().map(|r| r.port.unwrap()).collect();
        assert_eq!(ports, (0..25).collect::<Vec<_>>());
    }

    #[test]
    fn short_page_and_changed_total_are_reported() {
        let e =
            assemble(450, 200, vec![(0, page(450, 0..200)), (200, page(450, 200..400)), (400, page(451, 400..550))])
                .unwrap_err();
        assert!(e.contains("total_num changed from 450 to 451 (page at offset 400)"), "{e}");
        assert!(e.contains("page at offset 400 returned 150 records, expected 50"), "{e}");
        let e =
            assemble(30, 10, vec![(0, page(30, 0..10)), (10, page(30, 10..15)), (20, page(30, 20..30))]).unwrap_err();
        assert_eq!(e, "page at offset 10 returned 5 records, expected 10");
    }

    #[test]
    fn repeats_across_pages_are_reported_but_not_within_a_page() {
        let e = assemble(20, 10, vec![(0, page(20, 0..10)), (10, page(20, 9..19))]).unwrap_err();
        assert_eq!(e, "page at offset 10 repeats 1 record(s) already returned by an earlier page");
        let mut p = page(2, 0..1);
        p.data_list.push(rec(0));
        assert_eq!(assemble(2, 10, vec![(0, p)]).unwrap().ports.len(), 2);
    }

    #[test]
    fn many_problems_are_summarised() {
        let pages = (0..10).map(|i| (i * 10, page(100, 0..1))).collect();
        let e = assemble(100, 10, pages).unwrap_err();
        assert!(e.ends_with("more"), "{e}");
    }
}
