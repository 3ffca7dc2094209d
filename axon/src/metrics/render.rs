//! The Prometheus text exposition (format 0.0.4) of a [`Metrics`] table: one function per
//! metric family, each writing its `# HELP`/`# TYPE` header and its samples.

use super::{Gauges, Metrics, Reason, Row, StreamEnd, BUCKETS, STATUSES};
use std::fmt::Write;
use std::sync::atomic::Ordering;

impl Metrics {
    /// The exposition, with the gauges read at scrape time.
    pub(crate) fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::with_capacity(4096 + self.rows.len() * 2048);
        requests(&mut out, &self.rows);
        durations(&mut out, &self.rows);
        refusals(&mut out, self);
        stream_ends(&mut out, &self.rows);
        closed(&mut out, gauges);
        transports(&mut out, gauges);
        self.gauges(&mut out, gauges);
        out
    }

    fn gauges(&self, out: &mut String, gauges: &Gauges) {
        let in_flight = self.streams_in_flight.load(Ordering::Relaxed).max(0);
        for (name, help, value) in [
            (
                "axon_streams_in_flight",
                "Streamed answers being sent.",
                in_flight as u64,
            ),
            (
                "axon_workers_busy",
                "Requests past admission: reading their body, in their forward or streaming.",
                gauges.running as u64,
            ),
            (
                "axon_workers_max",
                "The worker limit (--axon.max_workers).",
                gauges.max_workers as u64,
            ),
            (
                "axon_queue_depth",
                "Requests waiting for a worker.",
                gauges.waiting as u64,
            ),
            (
                "axon_replay_store_entries",
                "Accepted requests (hotkey, uuid, nonce) the replay store remembers.",
                gauges.replay_entries as u64,
            ),
            (
                "axon_connections_open",
                "Open client connections.",
                gauges.connections as u64,
            ),
            (
                "axon_unverified_body_bytes",
                "Bytes held by signed-HTTP request bodies not yet verified or waiting for a worker.",
                gauges.unverified_body_bytes as u64,
            ),
            (
                "axon_draining",
                "1 while the axon stops: new connections refused, requests in flight finishing.",
                u64::from(self.draining()),
            ),
        ] {
            header(out, name, "gauge", help);
            let _ = writeln!(out, "{name} {value}");
        }
    }
}

/// `axon_requests_total{synapse, status}`: the statuses seen, each synapse's.
fn requests(out: &mut String, rows: &[Row]) {
    header(
        out,
        "axon_requests_total",
        "counter",
        "Requests answered, by synapse and HTTP status (synapse=\"unknown\": a name not served).",
    );
    for row in rows {
        for (i, n) in row.statuses.iter().enumerate() {
            let n = n.load(Ordering::Relaxed);
            if n == 0 {
                continue;
            }
            let status = STATUSES
                .get(i)
                .map_or_else(|| "other".to_owned(), u16::to_string);
            let _ = writeln!(
                out,
                "axon_requests_total{{{}=\"{}\",status=\"{status}\"}} {n}",
                row.key, row.name
            );
        }
    }
}

/// `axon_request_duration_seconds{synapse}`: the histogram, cumulative as Prometheus reads it.
fn durations(out: &mut String, rows: &[Row]) {
    header(
        out,
        "axon_request_duration_seconds",
        "histogram",
        "Time from a request's arrival to its answer's head (a stream's first byte), by synapse.",
    );
    for row in rows {
        let count = row.count.load(Ordering::Relaxed);
        if count == 0 {
            continue;
        }
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(&row.buckets) {
            cumulative += n.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "axon_request_duration_seconds_bucket{{{}=\"{}\",le=\"{bound}\"}} {cumulative}",
                row.key, row.name
            );
        }
        let sum = row.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(
            out,
            "axon_request_duration_seconds_bucket{{{1}=\"{0}\",le=\"+Inf\"}} {count}\n\
             axon_request_duration_seconds_sum{{{1}=\"{0}\"}} {sum}\n\
             axon_request_duration_seconds_count{{{1}=\"{0}\"}} {count}",
            row.name, row.key
        );
    }
}

/// `axon_refusals_total{reason}`: every reason, zero included.
fn refusals(out: &mut String, metrics: &Metrics) {
    header(
        out,
        "axon_refusals_total",
        "counter",
        "Requests not served, by reason.",
    );
    for (reason, n) in Reason::ALL.iter().zip(&metrics.refusals) {
        let _ = writeln!(
            out,
            "axon_refusals_total{{reason=\"{}\"}} {}",
            reason.label(),
            n.load(Ordering::Relaxed)
        );
    }
}

/// `axon_stream_ends_total{synapse, outcome}`.
fn stream_ends(out: &mut String, rows: &[Row]) {
    header(
        out,
        "axon_stream_ends_total",
        "counter",
        "Streamed answers ended, by synapse and how they ended.",
    );
    for row in rows {
        for (end, n) in StreamEnd::ALL.iter().zip(&row.stream_ends) {
            let n = n.load(Ordering::Relaxed);
            if n > 0 {
                let _ = writeln!(
                    out,
                    "axon_stream_ends_total{{synapse=\"{}\",outcome=\"{}\"}} {n}",
                    row.name,
                    end.label()
                );
            }
        }
    }
}

/// `axon_connections_closed_total{reason}`.
fn closed(out: &mut String, gauges: &Gauges) {
    header(
        out,
        "axon_connections_closed_total",
        "counter",
        "Connections the axon closed to keep room for others, by reason.",
    );
    for (reason, n) in gauges.closed {
        let _ = writeln!(
            out,
            "axon_connections_closed_total{{reason=\"{reason}\"}} {n}"
        );
    }
}

/// `axon_connections_total{transport}` and `axon_tls_handshake_failures_total{reason}`.
fn transports(out: &mut String, gauges: &Gauges) {
    header(
        out,
        "axon_connections_total",
        "counter",
        "Connections served, by transport (a TLS one once its handshake completed).",
    );
    for (transport, n) in gauges.transports {
        let _ = writeln!(
            out,
            "axon_connections_total{{transport=\"{transport}\"}} {n}"
        );
    }
    header(
        out,
        "axon_tls_handshake_failures_total",
        "counter",
        "TLS handshakes that failed, by reason.",
    );
    for (reason, n) in gauges.handshake_failures {
        let _ = writeln!(
            out,
            "axon_tls_handshake_failures_total{{reason=\"{reason}\"}} {n}"
        );
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}
