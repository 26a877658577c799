//! The Prometheus text exposition format, version 0.0.4.

use std::fmt::Write as _;

use super::{Family, FamilyKind, Series, lock};

/// The `Content-Type` of the text exposition format, as Prometheus expects it.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Writes one family: its `# HELP` and `# TYPE` lines, then one line per sample.
pub(super) fn family(out: &mut String, family: &Family) {
    let series: Vec<(Vec<String>, Series)> = lock(&family.series)
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();

    let _ = writeln!(out, "# HELP {} {}", family.name, escape_help(&family.help));
    let _ = writeln!(
        out,
        "# TYPE {} {}",
        family.name,
        family.kind.metric_kind().as_str()
    );

    for (values, series) in series {
        let labels: Vec<(&str, &str)> = family
            .label_names
            .iter()
            .map(String::as_str)
            .zip(values.iter().map(String::as_str))
            .collect();

        match (&family.kind, series) {
            (FamilyKind::Counter | FamilyKind::Gauge, Series::Scalar(value)) => {
                sample(out, &family.name, "", &labels, None, value.get());
            }
            (FamilyKind::Histogram(_), Series::Histogram(core)) => {
                let snapshot = core.snapshot();
                for (bound, count) in snapshot.bounds.iter().zip(&snapshot.cumulative) {
                    let le = format_value(*bound);
                    sample(
                        out,
                        &family.name,
                        "_bucket",
                        &labels,
                        Some(&le),
                        *count as f64,
                    );
                }
                sample(
                    out,
                    &family.name,
                    "_bucket",
                    &labels,
                    Some("+Inf"),
                    snapshot.count as f64,
                );
                sample(out, &family.name, "_sum", &labels, None, snapshot.sum);
                sample(
                    out,
                    &family.name,
                    "_count",
                    &labels,
                    None,
                    snapshot.count as f64,
                );
            }
            // Series are created with the family's own kind (see `Family::series`).
            _ => {}
        }
    }
}

fn sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    labels: &[(&str, &str)],
    le: Option<&str>,
    value: f64,
) {
    out.push_str(name);
    out.push_str(suffix);

    let all = labels.iter().copied().chain(le.map(|le| ("le", le)));
    let mut first = true;
    for (label, label_value) in all {
        out.push(if first { '{' } else { ',' });
        first = false;
        let _ = write!(out, "{label}=\"{}\"", escape_label_value(label_value));
    }
    if !first {
        out.push('}');
    }

    let _ = writeln!(out, " {}", format_value(value));
}

/// Label values escape backslash, double quote and line feed.
pub(crate) fn escape_label_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c => escaped.push(c),
        }
    }

    escaped
}

/// Help text escapes backslash and line feed (quotes are legal there).
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

fn format_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value == f64::INFINITY {
        "+Inf".to_owned()
    } else if value == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use crate::MetricsRegistry;

    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label_value(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape_label_value("line\nbreak"), "line\\nbreak");

        let registry = MetricsRegistry::new();
        let family = registry
            .counter_vec("odd_total", "Odd \\ help\nsecond line", &["v"])
            .unwrap();
        family.with_labels(&["say \"hi\"\n"]).unwrap().inc();
        let text = registry.encode_prometheus();
        assert!(
            text.contains("# HELP odd_total Odd \\\\ help\\nsecond line\n"),
            "{text}"
        );
        assert!(
            text.contains("odd_total{v=\"say \\\"hi\\\"\\n\"} 1\n"),
            "{text}"
        );
    }

    #[test]
    fn histograms_have_cumulative_buckets_sum_and_count() {
        let registry = MetricsRegistry::new();
        let family = registry
            .histogram_vec("job_duration_seconds", "Job time", &["job"], &[0.5, 2.0])
            .unwrap();
        let histogram = family.with_labels(&["a"]).unwrap();
        histogram.observe(0.25);
        histogram.observe(1.0);
        histogram.observe(5.0);

        let text = registry.encode_prometheus();
        let expected = "# HELP job_duration_seconds Job time\n\
            # TYPE job_duration_seconds histogram\n\
            job_duration_seconds_bucket{job=\"a\",le=\"0.5\"} 1\n\
            job_duration_seconds_bucket{job=\"a\",le=\"2\"} 2\n\
            job_duration_seconds_bucket{job=\"a\",le=\"+Inf\"} 3\n\
            job_duration_seconds_sum{job=\"a\"} 6.25\n\
            job_duration_seconds_count{job=\"a\"} 3\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn special_values_use_the_formats_spelling() {
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(0.005), "0.005");
        assert_eq!(format_value(3.0), "3");
    }
}
