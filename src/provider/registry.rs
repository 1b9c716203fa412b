//! The provider registry's entry type: what one kind declares about itself — its config
//! spelling, a one-line description, a commented example, how its `[providers.NAME]` table is
//! read ([`Fields`]) and how a provider is built from the result. The table of every kind is
//! the `kinds!` list in `provider/mod.rs`; adding a kind is one adapter file plus one line
//! there (see docs/design/providers.md).

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use super::{Provider, ProviderDeps};
use crate::fields::Fields;
use crate::record::Family;

/// One provider kind.
pub struct Kind {
    /// The config spelling (`kind = "…"`).
    pub name: &'static str,
    /// One line for `ddnsd init --provider` and the README's table.
    pub about: &'static str,
    /// A complete, commented `[providers.NAME]` block that works once its placeholders are
    /// filled in (printed by `ddnsd init --provider KIND`; tested to parse).
    pub example: &'static str,
    /// Reads the kind's table; `None` when it has problems (each one reported through `f`).
    pub configure: fn(f: &mut dyn Fields) -> Option<Arc<dyn Configured>>,
}

impl fmt::Debug for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kind({})", self.name)
    }
}

/// A kind's checked settings, ready to build providers from.
pub trait Configured: Any + fmt::Debug + Send + Sync {
    /// Builds the provider named `name`.
    fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider>;

    /// The address families the provider can publish (`check` warns when a record feeds it
    /// another one).
    fn families(&self) -> &'static [Family] {
        &[Family::Ipv6, Family::Ipv4]
    }
}

/// The settings of one `[providers.NAME]` table: its kind and what the kind read.
#[derive(Clone, Debug)]
pub struct ProviderSettings {
    /// The kind.
    pub kind: &'static Kind,
    /// What the kind read from the table.
    pub config: Arc<dyn Configured>,
}

impl ProviderSettings {
    /// Settings of `kind`.
    pub fn new(kind: &'static Kind, config: Arc<dyn Configured>) -> ProviderSettings {
        ProviderSettings { kind, config }
    }

    /// The config spelling of the kind.
    pub fn kind(&self) -> &'static str {
        self.kind.name
    }

    /// The kind-specific settings, if they are a `T` (tests and the kind itself).
    pub fn get<T: Configured>(&self) -> Option<&T> {
        let any: &dyn Any = self.config.as_ref();
        any.downcast_ref::<T>()
    }

    /// Builds the provider named `name`.
    pub fn build(&self, name: &str, deps: &ProviderDeps) -> Arc<dyn Provider> {
        self.config.build(name, deps)
    }
}

/// The kind spelled `name`, if there is one.
pub fn find(name: &str) -> Option<&'static Kind> {
    super::KINDS.iter().copied().find(|k| k.name == name)
}

/// Every kind's config spelling, in registry order.
pub fn names() -> Vec<&'static str> {
    super::KINDS.iter().map(|k| k.name).collect()
}
