//! One annotated method: its attributes read into a spec, and its signature checked.

use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Attribute, FnArg, ImplItemFn, Meta, Type};

use crate::args::{Arg, Args};
use crate::errors::Errors;
use crate::fields::Input;
use crate::options;
use crate::rules;
use crate::spec::FunctionSpec;
use crate::triggers;

/// Attributes that declare triggers.
const TRIGGER_ATTRIBUTES: &[&str] = &["function", "on_event", "on_events", "on_cron"];

/// Whether `attr` is one of ours: a trigger or an option, written as a bare name.
pub(crate) fn is_ours(attr: &Attribute) -> bool {
    attr.path().get_ident().is_some_and(|ident| {
        let name = ident.to_string();
        TRIGGER_ATTRIBUTES.contains(&name.as_str()) || options::OPTIONS.contains(&name.as_str())
    })
}

/// A method declared as an Inngest function.
#[derive(Debug)]
pub(crate) struct FunctionMethod {
    pub(crate) ident: syn::Ident,
    pub(crate) context: Type,
    pub(crate) spec: FunctionSpec,
}

/// Reads and removes our attributes from `method`. Returns `None` when it carries none.
pub(crate) fn read(method: &mut ImplItemFn, errors: &mut Errors) -> Option<FunctionMethod> {
    let (ours, others): (Vec<Attribute>, Vec<Attribute>) =
        method.attrs.drain(..).partition(is_ours);
    method.attrs = others;
    if ours.is_empty() {
        return None;
    }

    let mut spec = FunctionSpec::default();
    for attr in ours {
        apply_attribute(&mut spec, &attr, errors);
    }

    let ident = method.sig.ident.clone();
    let method_name = ident.unraw_string();
    rules::check(&spec, &method_name, ident.span(), errors);
    let context = handler_context(method, "an Inngest function", errors)?;

    Some(FunctionMethod {
        ident,
        context,
        spec,
    })
}

fn apply_attribute(spec: &mut FunctionSpec, attr: &Attribute, errors: &mut Errors) {
    let name = attr
        .path()
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    let span = attr.path().span();
    let is_trigger = TRIGGER_ATTRIBUTES.contains(&name.as_str());
    let Some(input) = attribute_input(attr, errors) else {
        // The syntax error is the one worth reading; do not add "no trigger" to it.
        spec.trigger_written |= is_trigger;
        return;
    };

    if !is_trigger {
        options::apply(spec, &name, input, span, errors);
        return;
    }
    let Input::List(args) = input else {
        spec.trigger_written = true;
        errors.push(
            span,
            format!("write `#[{name}(...)]` with its arguments in parentheses"),
        );
        return;
    };
    match name.as_str() {
        "function" => triggers::function(spec, args, errors),
        "on_event" => triggers::on_event(spec, args, errors),
        "on_events" => triggers::on_events(spec, args, errors),
        _ => triggers::on_cron(spec, args, errors),
    }
}

/// The arguments of `#[name(...)]`, `#[name]` or `#[name = value]`.
fn attribute_input(attr: &Attribute, errors: &mut Errors) -> Option<Input> {
    match &attr.meta {
        Meta::Path(path) => Some(Input::List(Args::empty(path.span()))),
        Meta::List(list) => match syn::parse2::<Args>(list.tokens.clone()) {
            Ok(mut args) => {
                args.span = list.delimiter.span().join();
                Some(Input::List(args))
            }
            Err(err) => {
                errors.add(err);
                None
            }
        },
        // `#[retries = 3]` reads like `retries = 3` inside `#[function(...)]`.
        Meta::NameValue(pair) => {
            let parsed = syn::parse2::<Args>(pair.value.to_token_stream());
            match parsed.map(|args| <[Arg; 1]>::try_from(args.items)) {
                Ok(Ok([Arg::Positional(value)])) => Some(Input::Value(value)),
                Ok(_) => {
                    errors.push(pair.value.span(), "expected one value, such as \"5m\" or 3");
                    None
                }
                Err(err) => {
                    errors.add(err);
                    None
                }
            }
        }
    }
}

/// Checks that `method` is `async fn name(&self, ctx: T)` and returns `T`.
///
/// `role` says what the method is for in messages: "an Inngest function" or "a failure handler".
pub(crate) fn handler_context(
    method: &ImplItemFn,
    role: &str,
    errors: &mut Errors,
) -> Option<Type> {
    let sig = &method.sig;
    let name = sig.ident.unraw_string();
    let ctx_type = if role.starts_with("a failure") {
        "Ctx<FunctionFailed<Event>>"
    } else {
        "Ctx<Event>"
    };
    let expected = format!("`async fn {name}(&self, ctx: {ctx_type}) -> Result<T, FunctionError>`");
    let before = errors.len();

    if sig.asyncness.is_none() {
        errors.push(
            sig.fn_token.span,
            format!("{role} must be an `async fn`; write {expected}"),
        );
    }
    if let Some(token) = &sig.constness {
        errors.push(
            token.span,
            format!("{role} cannot be `const`; write {expected}"),
        );
    }
    if let Some(token) = &sig.unsafety {
        errors.push(
            token.span,
            format!("{role} cannot be `unsafe`; write {expected}"),
        );
    }
    if let Some(abi) = &sig.abi {
        errors.push(
            abi.span(),
            format!("{role} cannot have an `extern` ABI; write {expected}"),
        );
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(
            sig.generics.span(),
            format!("{role} cannot be generic: the runtime calls it with one concrete context type; write {expected}"),
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(
            variadic.span(),
            format!("{role} cannot be variadic; write {expected}"),
        );
    }

    let mut inputs = sig.inputs.iter();
    let has_receiver = match inputs.next() {
        Some(FnArg::Receiver(receiver))
            if receiver.reference.is_some()
                && receiver.mutability.is_none()
                && receiver.colon_token.is_none() =>
        {
            true
        }
        Some(FnArg::Receiver(receiver)) => {
            let span = match &receiver.mutability {
                Some(token) => token.span,
                None => receiver.self_token.span,
            };
            errors.push(
                span,
                format!(
                    "{role} takes `&self`: the service is shared between concurrent runs; \
                     write {expected}"
                ),
            );
            true
        }
        Some(other) => {
            errors.push(
                other.span(),
                format!(
                    "{role} is a method: its first parameter must be `&self`; write {expected}"
                ),
            );
            false
        }
        None => {
            errors.push(
                sig.paren_token.span.join(),
                format!("{role} takes `&self` and the run context; write {expected}"),
            );
            false
        }
    };

    let rest: Vec<&FnArg> = inputs.collect();
    let context = match rest.as_slice() {
        [FnArg::Typed(pat)] => Some((*pat.ty).clone()),
        [] if has_receiver => {
            errors.push(
                sig.paren_token.span.join(),
                format!("{role} takes the run context after `&self`; write {expected}"),
            );
            None
        }
        [] => None,
        [_, extra, ..] => {
            errors.push(
                extra.span(),
                format!(
                    "{role} takes exactly one parameter after `&self`, the run context; reach \
                     other services through fields of `self`; write {expected}"
                ),
            );
            None
        }
        [other] => {
            errors.push(
                other.span(),
                format!("{role} takes the run context after `&self`; write {expected}"),
            );
            None
        }
    };

    if errors.len() > before {
        return None;
    }
    context
}

trait UnrawString {
    fn unraw_string(&self) -> String;
}

impl UnrawString for syn::Ident {
    fn unraw_string(&self) -> String {
        syn::ext::IdentExt::unraw(self).to_string()
    }
}
