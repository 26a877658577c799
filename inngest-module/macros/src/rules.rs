//! Checks across options, once every attribute of a method has been read.

use proc_macro2::Span;

use crate::errors::Errors;
use crate::spec::FunctionSpec;

/// Most triggers per function.
const MAX_TRIGGERS: usize = 10;

/// Checks what only the whole spec can show; `method_span` is used when something is missing.
pub(crate) fn check(spec: &FunctionSpec, method: &str, method_span: Span, errors: &mut Errors) {
    if spec.triggers.is_empty() && !spec.trigger_written {
        errors.push(
            method_span,
            format!(
                "the Inngest function `{method}` has no trigger; add #[on_event(\"...\")], \
                 #[on_events(\"...\", \"...\")], #[on_cron(\"...\")] or an `event`, `events` or \
                 `cron` key to #[function(...)]"
            ),
        );
    }
    if let Some(extra) = spec.triggers.get(MAX_TRIGGERS) {
        errors.push(
            extra.span,
            format!(
                "a function takes at most {MAX_TRIGGERS} triggers; split it into several functions"
            ),
        );
    }

    // The server refuses these pairs when the app syncs ("... are mutually exclusive"): a batch
    // run has no single event to debounce, cancel, prioritise or hold a singleton key for.
    if spec.batch.is_some() {
        let conflicts = [
            ("cancel_on", spec.cancel.first().map(|c| c.span)),
            ("debounce", spec.debounce.as_ref().map(|d| d.span)),
            ("singleton", spec.singleton.as_ref().map(|s| s.span)),
            ("priority", spec.priority.as_ref().map(|p| p.span)),
        ];
        for (option, span) in conflicts {
            if let Some(span) = span {
                errors.push(
                    span,
                    format!(
                        "`{option}` cannot be combined with `batch_events`: Inngest rejects the pair \
                         when the app syncs; remove one of them"
                    ),
                );
            }
        }
    }
}
