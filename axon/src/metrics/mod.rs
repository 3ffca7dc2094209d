//! What a running axon counts, and its Prometheus text exposition (served on the
//! operations listener, see [`Axon::operations`](crate::Axon::operations)).
//!
//! Counters are lock-free atomics in fixed tables built at start: one row per served
//! synapse, one per signed-HTTP endpoint (labelled `endpoint="POST /v1/score"` instead of
//! `synapse`), plus `unknown` (requests for a name that is not served: the requested name is
//! never a label, so a client cannot grow the table). Gauges (queue depth, replay store)
//! are read when scraped.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `axon_requests_total` | counter | `synapse` (or `endpoint`), `status` |
//! | `axon_request_duration_seconds` | histogram | `synapse` (or `endpoint`) |
//! | `axon_refusals_total` | counter | `reason` |
//! | `axon_stream_ends_total` | counter | `synapse`, `outcome` |
//! | `axon_streams_in_flight` | gauge | |
//! | `axon_workers_busy`, `axon_workers_max` | gauge | |
//! | `axon_queue_depth` | gauge | |
//! | `axon_replay_store_entries` | gauge | |
//! | `axon_connections_open` | gauge | |
//! | `axon_unverified_body_bytes` | gauge | |
//! | `axon_connections_closed_total` | counter | `reason` (`per_address`, `evicted`, `first_head`, `tls_handshakes_per_address`, `tls_handshakes_per_second`) |
//! | `axon_connections_total` | counter | `transport` (`plain`, `tls`) |
//! | `axon_tls_handshake_failures_total` | counter | `reason` (`timeout`, `closed`, `rejected`) |
//! | `axon_draining` | gauge | |

mod reason;
mod render;

pub(crate) use reason::Reason;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// The statuses counted one by one; any other is counted as `other`.
const STATUSES: [u16; 17] = [
    200, 400, 401, 403, 404, 405, 408, 413, 415, 422, 429, 431, 500, 502, 503, 504, 505,
];

/// The histogram's upper bounds, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How a stream ended, for `axon_stream_ends_total{outcome}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StreamEnd {
    /// The producer finished.
    Completed,
    /// The producer failed or panicked.
    Failed,
    /// The synapse's timeout passed.
    TimedOut,
    /// The client went away first.
    ClientGone,
}

impl StreamEnd {
    const ALL: [StreamEnd; 4] = [
        StreamEnd::Completed,
        StreamEnd::Failed,
        StreamEnd::TimedOut,
        StreamEnd::ClientGone,
    ];

    fn label(self) -> &'static str {
        match self {
            StreamEnd::Completed => "completed",
            StreamEnd::Failed => "failed",
            StreamEnd::TimedOut => "timed_out",
            StreamEnd::ClientGone => "client_gone",
        }
    }
}

/// One synapse's row.
struct Row {
    name: &'static str,
    /// The label it is counted under: `synapse`, or `endpoint` for a signed-HTTP endpoint.
    key: &'static str,
    /// One per [`STATUSES`] entry, then `other`.
    statuses: [AtomicU64; STATUSES.len() + 1],
    /// One per [`BUCKETS`] entry (not cumulative; summed when rendered).
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
    stream_ends: [AtomicU64; StreamEnd::ALL.len()],
}

impl Row {
    fn new(key: &'static str, name: &'static str) -> Self {
        Row {
            name,
            key,
            statuses: std::array::from_fn(|_| AtomicU64::new(0)),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_nanos: AtomicU64::new(0),
            stream_ends: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

/// The counters of one running axon.
pub(crate) struct Metrics {
    rows: Vec<Row>,
    index: HashMap<&'static str, usize>,
    refusals: [AtomicU64; Reason::ALL.len()],
    streams_in_flight: AtomicI64,
    draining: AtomicBool,
}

/// The row of a synapse: its index in the table (the last row is `unknown`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Synapse(usize);

impl Metrics {
    /// A table for `synapses` (the served names) plus `unknown`.
    #[cfg(test)]
    pub(crate) fn new(synapses: impl IntoIterator<Item = &'static str>) -> Self {
        Self::with_endpoints(synapses, [])
    }

    /// A table for `synapses`, then `endpoints` (their `"{method} {path}"` labels, counted
    /// under `endpoint`), plus `unknown`.
    pub(crate) fn with_endpoints(
        synapses: impl IntoIterator<Item = &'static str>,
        endpoints: impl IntoIterator<Item = &'static str>,
    ) -> Self {
        let mut rows: Vec<Row> = synapses
            .into_iter()
            .map(|name| Row::new("synapse", name))
            .collect();
        rows.extend(endpoints.into_iter().map(|name| Row::new("endpoint", name)));
        rows.push(Row::new("synapse", "unknown"));
        let index = rows
            .iter()
            .enumerate()
            .take(rows.len() - 1)
            .map(|(i, r)| (r.name, i))
            .collect();
        Metrics {
            rows,
            index,
            refusals: std::array::from_fn(|_| AtomicU64::new(0)),
            streams_in_flight: AtomicI64::new(0),
            draining: AtomicBool::new(false),
        }
    }

    /// The row of `name`, `unknown` when it is not served.
    pub(crate) fn synapse(&self, name: &str) -> Synapse {
        Synapse(self.index.get(name).copied().unwrap_or(self.rows.len() - 1))
    }

    /// Counts an answer: its status, and the time to its head.
    pub(crate) fn answered(&self, synapse: Synapse, status: u16, elapsed: Duration) {
        let row = &self.rows[synapse.0];
        let slot = STATUSES
            .iter()
            .position(|&s| s == status)
            .unwrap_or(STATUSES.len());
        row.statuses[slot].fetch_add(1, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        if let Some(bucket) = BUCKETS.iter().position(|&b| secs <= b) {
            row.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        }
        row.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        row.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Counts a refusal.
    pub(crate) fn refused(&self, reason: Reason) {
        let slot = Reason::ALL.iter().position(|&r| r == reason).unwrap_or(0);
        self.refusals[slot].fetch_add(1, Ordering::Relaxed);
    }

    /// A stream started: it is in flight until [`stream_ended`](Metrics::stream_ended).
    pub(crate) fn stream_started(&self) {
        self.streams_in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A stream ended.
    pub(crate) fn stream_ended(&self, synapse: Synapse, end: StreamEnd) {
        self.streams_in_flight.fetch_sub(1, Ordering::Relaxed);
        let slot = StreamEnd::ALL.iter().position(|&e| e == end).unwrap_or(0);
        self.rows[synapse.0].stream_ends[slot].fetch_add(1, Ordering::Relaxed);
    }

    /// Marks the axon as stopping (`/healthz` answers 503 from then on).
    pub(crate) fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Whether the axon is stopping.
    pub(crate) fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }
}

/// The gauges read from the rest of the axon when scraped.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Gauges {
    pub(crate) running: usize,
    pub(crate) waiting: usize,
    pub(crate) max_workers: usize,
    pub(crate) replay_entries: usize,
    pub(crate) connections: usize,
    /// Bytes held by signed-HTTP bodies not yet verified (`pipeline::BodyBudget`).
    pub(crate) unverified_body_bytes: usize,
    /// Connections the axon closed, by reason (`per_address`, `evicted`, `first_head`).
    pub(crate) closed: [(&'static str, u64); 5],
    /// Connections served, by transport (`plain`, `tls`).
    pub(crate) transports: [(&'static str, u64); 2],
    /// TLS handshakes failed, by reason (`timeout`, `closed`, `rejected`).
    pub(crate) handshake_failures: [(&'static str, u64); 3],
}

impl Default for Gauges {
    fn default() -> Self {
        Gauges {
            running: 0,
            waiting: 0,
            max_workers: 0,
            replay_entries: 0,
            connections: 0,
            unverified_body_bytes: 0,
            closed: [
                ("per_address", 0),
                ("evicted", 0),
                ("first_head", 0),
                ("tls_handshakes_per_address", 0),
                ("tls_handshakes_per_second", 0),
            ],
            transports: [("plain", 0), ("tls", 0)],
            handshake_failures: [("timeout", 0), ("closed", 0), ("rejected", 0)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
    }

    #[test]
    fn counts_render_as_prometheus_text() {
        let m = Metrics::new(["Echo", "Synapse"]);
        let echo = m.synapse("Echo");
        m.answered(echo, 200, Duration::from_micros(300));
        m.answered(echo, 200, Duration::from_millis(20));
        m.answered(echo, 418, Duration::from_millis(20));
        m.answered(m.synapse("/etc/passwd"), 404, Duration::from_micros(10));
        m.refused(Reason::NotFound);
        m.stream_started();
        let text = m.render(&Gauges {
            waiting: 3,
            ..Gauges::default()
        });
        assert_eq!(
            line(
                &text,
                "axon_requests_total{synapse=\"Echo\",status=\"200\"}"
            ),
            "axon_requests_total{synapse=\"Echo\",status=\"200\"} 2"
        );
        assert!(text.contains("axon_requests_total{synapse=\"Echo\",status=\"other\"} 1\n"));
        assert!(text.contains("axon_requests_total{synapse=\"unknown\",status=\"404\"} 1\n"));
        assert!(!text.contains("passwd"));
        assert!(text
            .contains("axon_request_duration_seconds_bucket{synapse=\"Echo\",le=\"0.0005\"} 1\n"));
        assert!(text
            .contains("axon_request_duration_seconds_bucket{synapse=\"Echo\",le=\"0.025\"} 3\n"));
        assert!(
            text.contains("axon_request_duration_seconds_bucket{synapse=\"Echo\",le=\"+Inf\"} 3\n")
        );
        assert!(text.contains("axon_request_duration_seconds_count{synapse=\"Echo\"} 3\n"));
        assert!(text.contains("axon_refusals_total{reason=\"not_found\"} 1\n"));
        assert!(text.contains("axon_refusals_total{reason=\"blacklisted\"} 0\n"));
        assert!(text.contains("axon_streams_in_flight 1\n"));
        assert!(text.contains("axon_queue_depth 3\n"));
        assert!(
            !text.contains("synapse=\"Synapse\""),
            "rows without traffic are left out"
        );
        m.stream_ended(echo, StreamEnd::ClientGone);
        let text = m.render(&Gauges::default());
        assert!(text.contains("axon_streams_in_flight 0\n"));
        assert!(
            text.contains("axon_stream_ends_total{synapse=\"Echo\",outcome=\"client_gone\"} 1\n")
        );
    }
}
