//! Complete, concurrent, overlapping paging of every list API (the port list, the hosts, the
//! servers with one port open, the port statistics): read page 0 for `total_num`, fetch the other pages
//! concurrently (bounded by the provider-wide limits), assemble them by offset, and check that
//! they make one true list. An inconsistent read is re-read from scratch, up to 3 reads, then
//! reported as incomplete: neither a short list nor a list mixing two versions of the host is
//! ever returned. The text below speaks of a host's ports; it holds as it is for any list
//! the API serves in a stable order.
//!
//! # Overlapping pages
//!
//! With a page size `L` (the API's `limit`), page `k` starts at offset `k·(L−1)`: each page
//! repeats the last record of the page before it, the *anchor* of their boundary. `n` records
//! need `max(1, ⌈(n−1)/(L−1)⌉)` pages (1 for `n` = 0, 1 or `L`; 2 for `L`+1; 51 for 10,000 at
//! `L` = 200, against 50 without overlap). The last page then holds at least 2 records, so every
//! page after the first brings at least one new record. The list is page 0, then each later
//! page without its first record. A read is accepted when, for every page:
//!
//! 1. its `total_num` is the one page 0 gave (`T`);
//! 2. it holds `min(L, T − offset)` records: full pages, and a last page that reaches the end;
//! 3. (after page 0) its first record equals the previous page's last record, field for field.
//!
//! # The invariant, and why the checks give it
//!
//! A read takes time, and ports open and close meanwhile. The list returned satisfies:
//!
//! - every port open throughout the read is in it;
//! - nothing in it was never open (each record was on the host when its page was read);
//! - no record appears more times than HSS listed it (no duplicates it should not have).
//!
//! The model: HSS lists the host's records in an order that does not depend on when it is asked
//! (some fixed order on the records, however it is chosen: two records keep their relative
//! order while both exist, and a record that closes and opens again comes back to its place).
//! Each page is one honest slice of the list as it stood when that page was read; pages are read
//! at different moments, concurrently, in any order. Write `V(t)` for the list at moment `t`, and
//! `a_k` for the anchor read at boundary `k` (the last record of page `k−1`, equal by check 3 to
//! the first record of page `k`).
//!
//! Take distinct records first. Page 0 starts at the beginning of the list (offset 0); by
//! check 2, the last page ends at its end, and page `k` goes from `a_k` to `a_{k+1}` in the
//! list it was read from: it holds *every* record of `V(t_k)` between `a_k` and `a_{k+1}` in
//! the fixed order (a slice of an ordered list holds everything between its ends). The
//! intervals `[start, a_1]`, `[a_1, a_2]`, ..., `[a_{P−1}, end]` cover the whole order, so a
//! record open throughout the read, which lies in one of them, say `[a_k, a_{k+1}]`, and was
//! in `V(t_k)`, is on page `k`. The intervals meet only at the anchors, each of which the list
//! keeps once (from page `k−1`), so no record is listed twice. Check 3 is what makes the
//! pages' ends meet: when records before a boundary are removed or added between the reads of
//! the two pages beside it, the offset `k·(L−1)` no longer points at the same record, the first
//! record of page `k` is another one, and the read is retried. A removal before the boundary
//! and an insertion after it (or the reverse) keep `total_num` and every page's length, and
//! only check 3 sees them: without it, one record falls between two pages (or is read twice),
//! and the list looks complete while it mixes two versions of the host.
//!
//! With a single change during the read (one port closes, one opens, `total_num` unchanged), the
//! list therefore holds the `n−1` records open throughout and one more: it is exactly the host
//! before or after the change. With changes that leave `total_num` different, check 1 re-reads.
//!
//! # Identical records
//!
//! HSS may list two records that are equal in every field (two sockets of one process on the
//! same address and port). They are kept, each as HSS lists it: the list is assembled by
//! position (the anchor is dropped from the later page because it is the overlap, not because
//! its value was seen before), so an unchanging host gives exactly HSS's list, at any page size.
//! Two identical records may straddle a boundary; the anchor is still one position, read twice.
//!
//! What a value comparison cannot tell apart is a shift that moves *another copy* of the anchor
//! onto the boundary: then the pages are byte for byte those of an unchanging host that has one
//! copy more (or fewer), and no finite overlap can see the difference. Such a change needs
//! identical records within one page of the boundary at the moment the host changes; when it
//! happens, only the number of copies of a record that has identical copies can be off (if the
//! copies are next to each other in HSS's order, which they are whenever that order depends on
//! the records' fields). Every record open throughout is still listed. `docs/reliability.md`
//! discusses it further.
//!
//! # Offsets
//!
//! The API takes offsets up to 2,000,000 ([`MAX_OFFSET`]). A `total_num` whose last page
//! would start beyond that cannot be read whole; that is reported as such, without a re-read.

use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::stream::{self, StreamExt, TryStreamExt};
use tokio_util::sync::CancellationToken;

use super::error::{self, Error, ErrorKind};
use super::model::{ListRequest, Listing, MAX_OFFSET, MAX_PAGE_SIZE, MIN_PAGE_SIZE, Page, Record};
use super::request::Endpoint;
use super::retry::{self, Policy};
use super::transport::{self, Transport};

/// How many times the whole list is read before giving up on an inconsistent result.
pub(crate) const MAX_LIST_ATTEMPTS: u32 = 3;
/// At most this many problems are spelled out in an error message.
const MAX_PROBLEMS_SHOWN: usize = 4;

/// One read of one list: where it is, and how many requests it has taken so far.
struct Read<'a> {
    inner: &'a Transport,
    endpoint: Endpoint,
    request: &'a ListRequest,
    requests: AtomicU64,
    cancel: &'a CancellationToken,
}

/// Reads the complete list `request` asks for, re-reading it while it is inconsistent.
pub(crate) async fn list_all<T: Record>(
    inner: &Transport,
    request: &ListRequest,
    cancel: &CancellationToken,
) -> Result<Listing<T>, Error> {
    let page_size = request.page_size;
    if !(MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(Error::config(format!(
            "page_size must be between {MIN_PAGE_SIZE} and {MAX_PAGE_SIZE} (0 means {MAX_PAGE_SIZE}), got {page_size}"
        )));
    }
    let read =
        Read { inner, endpoint: inner.endpoint.with_path(&request.path), request, requests: AtomicU64::new(0), cancel };
    let mut last_problem = String::new();
    for attempt in 1..=MAX_LIST_ATTEMPTS {
        match read.once::<T>().await? {
            Ok((total_num, records)) => {
                let requests = read.requests.load(Ordering::Relaxed);
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
    Err(Error::incomplete(request.what, last_problem, MAX_LIST_ATTEMPTS))
}

impl Read<'_> {
    /// One GET of the page at `offset`, with retries, counted.
    async fn page<T: Record>(&self, offset: u64) -> Result<Page<T>, Error> {
        let pairs = self.request.pairs(offset);
        retry::run(Policy::from_config(&self.inner.config), offset, self.cancel, |attempt| {
            self.requests.fetch_add(1, Ordering::Relaxed);
            transport::get_page(self.inner, &self.endpoint, &pairs, offset, attempt)
        })
        .await
    }

    /// Reads every page once. `Ok(Err(problem))` when the pages do not make one list.
    async fn once<T: Record>(&self) -> Result<Result<(u64, Vec<T>), String>, Error> {
        let first: Page<T> = self.page(0).await?;
        let total = first.total_num;
        if total == 0 {
            return Ok(if first.data_list.is_empty() {
                Ok((0, Vec::new()))
            } else {
                Err(format!("total_num is 0 but the page at offset 0 returned {} records", first.data_list.len()))
            });
        }
        let page_size = u64::from(self.request.page_size);
        let offsets = later_offsets(total, page_size)?;
        // The provider-wide limits bound the requests in flight; bounding the local fan-out as
        // well keeps the number of waiting futures small for very long lists.
        let fan_out = self.inner.config.max_concurrent_requests.max(1);
        let mut pages: Vec<(u64, Page<T>)> = stream::iter(offsets)
            .map(|offset| async move { Ok::<_, Error>((offset, self.page(offset).await?)) })
            .buffer_unordered(fan_out)
            .try_collect()
            .await?;
        pages.push((0, first));
        pages.sort_unstable_by_key(|(offset, _)| *offset);
        Ok(assemble(total, page_size, pages).map(|records| (total, records)))
    }
}

/// How many pages `total` records need with overlapping pages of `page_size` (≥ 2): one page
/// for up to `page_size` records, then one more per `page_size − 1` records.
pub(crate) fn page_count(total: u64, page_size: u64) -> u64 {
    let stride = page_size.saturating_sub(1).max(1);
    total.saturating_sub(1).div_ceil(stride).max(1)
}

/// The offsets of the pages after the first for `total` records (`total` > 0); an error when
/// the last page would start beyond the API's maximum offset.
fn later_offsets(total: u64, page_size: u64) -> Result<impl Iterator<Item = u64>, Error> {
    let stride = page_size.saturating_sub(1).max(1);
    let pages = page_count(total, page_size);
    let last_offset = (pages - 1).saturating_mul(stride);
    if last_offset > MAX_OFFSET {
        return Err(Error::new(ErrorKind::TooManyRecords { total_num: total, last_offset, max_offset: MAX_OFFSET }));
    }
    Ok((1..pages).map(move |i| i * stride))
}

/// Checks the pages (in offset order, as [`later_offsets`] gives them) against `total` and
/// joins them: page 0 whole, then each later page without the record it shares with the page
/// before (see the module docs).
pub(crate) fn assemble<T: PartialEq>(total: u64, page_size: u64, pages: Vec<(u64, Page<T>)>) -> Result<Vec<T>, String> {
    let mut problems: Vec<String> = Vec::new();
    let mut previous: Option<(u64, &Page<T>, bool)> = None;
    for (offset, page) in &pages {
        if page.total_num != total {
            problems.push(format!("total_num changed from {total} to {} (page at offset {offset})", page.total_num));
        }
        let expected = page_size.min(total.saturating_sub(*offset));
        let got = page.data_list.len() as u64;
        let full = got == expected;
        if !full {
            problems.push(format!("page at offset {offset} returned {got} records, expected {expected}"));
        }
        // Only pages of the right length have their anchor where it should be.
        if let Some((prev_offset, prev, prev_full)) = previous
            && full
            && prev_full
            && prev.data_list.last() != page.data_list.first()
        {
            problems.push(format!(
                "page at offset {offset} does not start with the record that ends the page at offset {prev_offset}: \
                 the list shifted between the two reads"
            ));
        }
        previous = Some((*offset, page, full));
    }
    if !problems.is_empty() {
        return Err(error::problems_text(problems, MAX_PROBLEMS_SHOWN));
    }
    let mut records = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    for (i, (_, page)) in pages.into_iter().enumerate() {
        let skip = usize::from(i > 0);
        records.extend(page.data_list.into_iter().skip(skip));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hss::{PortPage, PortRecord};

    fn rec(port: i64) -> PortRecord {
        PortRecord { host_id: Some("h".into()), port: Some(port), port_type: Some("TCP".into()), ..Default::default() }
    }

    /// The pages an honest, unchanging server gives for `records` at `page_size`.
    fn serve(records: &[PortRecord], page_size: u64) -> Vec<(u64, PortPage)> {
        let total = records.len() as u64;
        let mut offsets = vec![0];
        if total > 0 {
            offsets.extend(later_offsets(total, page_size).unwrap());
        }
        offsets
            .into_iter()
            .map(|o| {
                let start = (o as usize).min(records.len());
                let end = (o + page_size).min(total) as usize;
                (o, PortPage { total_num: total, data_list: records[start..end].to_vec() })
            })
            .collect()
    }

    fn offsets(total: u64, page_size: u64) -> Vec<u64> {
        later_offsets(total, page_size).unwrap().collect()
    }

    #[test]
    fn page_counts_at_the_edges() {
        for (total, pages) in [(0, 1), (1, 1), (2, 1), (199, 1), (200, 1), (201, 2), (399, 2), (400, 3), (450, 3)] {
            assert_eq!(page_count(total, 200), pages, "{total} records");
        }
        // The benchmark's host: 51 requests, one more than without overlap.
        assert_eq!(page_count(10_000, 200), 51);
        assert_eq!(page_count(95, 10), 11);
        assert_eq!(page_count(10, 10), 1);
        assert_eq!(page_count(11, 10), 2);
    }

    #[test]
    fn later_offsets_step_by_one_less_than_the_page() {
        assert!(offsets(1, 200).is_empty());
        assert!(offsets(200, 200).is_empty());
        assert_eq!(offsets(201, 200), vec![199]);
        assert_eq!(offsets(450, 200), vec![199, 398]);
        let many = offsets(10_000, 200);
        assert_eq!(many.len(), 50);
        assert_eq!(many.last(), Some(&9_950));
        // Every page but the first starts inside the list, and the last reaches its end with at
        // least one record of its own.
        for total in 2..=1_000 {
            for page_size in [10, 11, 50, 199, 200] {
                let o = offsets(total, page_size);
                let last = o.last().copied().unwrap_or(0);
                assert!(last + page_size >= total, "{total}/{page_size}: the last page reaches the end");
                assert!(total - last >= 2 || total == 1, "{total}/{page_size}: the last page brings a record");
            }
        }
    }

    #[test]
    fn offsets_beyond_the_api_maximum_are_an_error_of_their_own() {
        // The last page may start at 1,999,950 (10,050 × 199, the last multiple of the stride
        // within 2,000,000): 10,051 pages, up to 2,000,150 records...
        assert_eq!(offsets(2_000_150, 200).last(), Some(&1_999_950));
        // ...but not beyond, and absurd totals do not overflow or loop.
        for total in [2_000_151, MAX_OFFSET + 400, u64::MAX] {
            let e = later_offsets(total, 200).err().unwrap();
            assert!(e.is_too_many_records(), "{e}");
            let text = e.to_string();
            assert!(text.contains("beyond the API's maximum offset of 2000000"), "{text}");
            assert!(!text.contains("kept changing"), "the list did not change: {text}");
            assert!(!e.is_retryable());
        }
    }

    #[test]
    fn an_unchanging_list_is_read_exactly_at_every_page_size() {
        let records: Vec<PortRecord> = (0..450).map(rec).collect();
        for page_size in [10, 11, 50, 199, 200] {
            let list = assemble(450, page_size, serve(&records, page_size)).unwrap();
            assert_eq!(list, records, "page size {page_size}");
        }
        for n in [1, 2, 199, 200, 201] {
            let records: Vec<PortRecord> = (0..n).map(rec).collect();
            let list = assemble(n as u64, 200, serve(&records, 200)).unwrap();
            assert_eq!(list, records, "{n} records");
        }
    }

    #[test]
    fn identical_records_are_kept_wherever_they_fall() {
        // Runs of identical records across every boundary, and copies far apart.
        let mut records: Vec<PortRecord> = (0..300).map(rec).collect();
        for i in [8, 9, 10, 17, 18, 197, 198, 199, 200, 201, 250] {
            records[i] = rec(7);
        }
        for page_size in 10..=200 {
            let list =
                assemble(300, page_size, serve(&records, page_size)).unwrap_or_else(|e| panic!("{page_size}: {e}"));
            assert_eq!(list, records, "page size {page_size}");
        }
        // A page of nothing but copies.
        let same = vec![rec(1); 45];
        assert_eq!(assemble(45, 10, serve(&same, 10)).unwrap(), same);
    }

    /// The pages read when `before` becomes `after` during the read: the pages for which
    /// `from_after(k)` holds (page number `k`) were read after the change.
    fn read_across_change(
        before: &[PortRecord],
        after: &[PortRecord],
        page_size: u64,
        from_after: impl Fn(usize) -> bool,
    ) -> Vec<(u64, PortPage)> {
        let old = serve(before, page_size);
        let new = serve(after, page_size);
        old.into_iter().zip(new).enumerate().map(|(k, (o, n))| if from_after(k) { n } else { o }).collect()
    }

    #[test]
    fn a_replacement_across_a_boundary_is_detected_in_both_directions() {
        let before: Vec<PortRecord> = (0..450).map(rec).collect();
        // Removal before the boundary at 199, insertion after it.
        let mut removed_first = before.clone();
        removed_first.remove(50);
        removed_first.insert(300, rec(10_000));
        // Insertion before the boundary, removal after it.
        let mut inserted_first = before.clone();
        inserted_first.remove(300);
        inserted_first.insert(50, rec(10_001));
        for after in [&removed_first, &inserted_first] {
            // Page 0 read before the change, the others after: caught at the boundary at 199.
            let e = assemble(450, 200, read_across_change(&before, after, 200, |k| k > 0)).unwrap_err();
            assert!(
                e.contains("page at offset 199 does not start with the record that ends the page at offset 0"),
                "{e}"
            );
            assert!(e.contains("shifted"), "{e}");
        }
        // Without the anchor check the list would look complete: 450 records, none repeated,
        // one missing (which was open all along) and one that closed in its place.
    }

    #[test]
    fn every_accepted_read_across_one_change_is_the_host_before_or_after() {
        // Exhaustively: one replacement (any removal and insertion position), pages read on either
        // side of it in every split a concurrent read allows, and every page size around the
        // boundaries. Whatever is accepted satisfies the invariant, which here means it is one
        // of the two versions of the host.
        let n = 40;
        let before: Vec<PortRecord> = (0..n).map(rec).collect();
        let mut accepted = 0;
        let mut refused = 0;
        for page_size in [10, 20] {
            let pages = page_count(n as u64, page_size);
            for remove in 0..n as usize {
                for insert in 0..n as usize {
                    let mut after = before.clone();
                    after.remove(remove);
                    after.insert(insert, rec(1_000));
                    for mask in 0..(1u32 << pages) {
                        let read = read_across_change(&before, &after, page_size, |k| mask & (1 << k) != 0);
                        match assemble(n as u64, page_size, read) {
                            Ok(list) => {
                                assert!(
                                    list == before || list == after,
                                    "page size {page_size}, remove {remove}, insert {insert}, mask {mask:b}"
                                );
                                accepted += 1;
                            }
                            Err(e) => {
                                assert!(e.contains("shifted"), "{e}");
                                refused += 1;
                            }
                        }
                    }
                }
            }
        }
        assert!(accepted > 0 && refused > 0, "{accepted} accepted, {refused} refused");
    }

    #[test]
    fn short_page_and_changed_total_are_reported() {
        let records: Vec<PortRecord> = (0..450).map(rec).collect();
        let mut pages = serve(&records, 200);
        pages[2].1.total_num = 451;
        pages[2].1.data_list.extend((450..550).map(rec));
        let e = assemble(450, 200, pages).unwrap_err();
        assert!(e.contains("total_num changed from 450 to 451 (page at offset 398)"), "{e}");
        assert!(e.contains("page at offset 398 returned 152 records, expected 52"), "{e}");
        let records: Vec<PortRecord> = (0..30).map(rec).collect();
        let mut pages = serve(&records, 10);
        pages[1].1.data_list.truncate(5);
        assert_eq!(assemble(30, 10, pages).unwrap_err(), "page at offset 9 returned 5 records, expected 10");
    }

    #[test]
    fn a_page_of_other_records_is_reported() {
        // What the simulator's "repeated page" fault sends: another offset's records.
        let records: Vec<PortRecord> = (0..30).map(rec).collect();
        let mut pages = serve(&records, 10);
        pages[2].1.data_list = records[0..10].to_vec();
        let e = assemble(30, 10, pages).unwrap_err();
        assert!(e.contains("page at offset 18 does not start with the record that ends the page at offset 9"), "{e}");
    }

    #[test]
    fn many_problems_are_summarised() {
        let pages = (0..10).map(|i| (i * 9, PortPage { total_num: 100, data_list: vec![rec(0)] })).collect();
        let e = assemble(100, 10, pages).unwrap_err();
        assert!(e.ends_with("more"), "{e}");
    }
}
