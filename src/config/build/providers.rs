//! `[providers.NAME]` tables → [`ProviderSettings`]: the kind is looked up in the provider
//! registry and the kind's own parser reads the table through [`Fields`], which this file
//! implements over the [`Builder`] (so secrets, durations and every problem still go through
//! the config reader).

use std::ops::Range;
use std::time::Duration;

use toml::de::DeValue;
use toml::Spanned;

use super::{Builder, Named};
use crate::config::diag::Diag;
use crate::fields::{Fields, SecretFields, Text};
use crate::provider::{registry, ProviderSettings};
use crate::secret::Secret;

impl Builder<'_> {
    pub(super) fn providers(
        &mut self,
        v: Option<&Spanned<DeValue<'_>>>,
    ) -> Named<ProviderSettings> {
        let mut out = Named::new();
        let Some(v) = v else { return out };
        let DeValue::Table(t) = v.get_ref() else {
            self.push(Diag::new(
                v.span(),
                "`providers` must be a table of [providers.NAME] tables",
            ));
            return out;
        };
        let kinds = registry::names();
        for (name, value) in t.iter() {
            let name = name.get_ref().to_string();
            let place = format!("[providers.{name}]");
            let built = self
                .kind(value, &place, &kinds, crate::provider::LEFT_OUT)
                .and_then(|k| registry::find(&k))
                .and_then(|kind| {
                    let mut f = TableFields {
                        builder: self,
                        value,
                        place: &place,
                    };
                    (kind.configure)(&mut f).map(|c| ProviderSettings::new(kind, c))
                });
            out.insert(name, built);
        }
        out
    }
}

/// One provider table, read through the builder.
struct TableFields<'b, 'e, 'v, 'de> {
    builder: &'b mut Builder<'e>,
    value: &'v Spanned<DeValue<'de>>,
    place: &'v str,
}

impl Fields for TableFields<'_, '_, '_, '_> {
    fn place(&self) -> &str {
        self.place
    }

    fn span(&self) -> Range<usize> {
        self.value.span()
    }

    fn problem(&mut self, span: Range<usize>, message: String, hint: Option<String>) {
        let d = Diag::new(span, message);
        self.builder.push(match hint {
            Some(h) => d.hint(h),
            None => d,
        });
    }

    fn deserialize(
        &mut self,
        known: &'static [&'static str],
        de: &mut dyn FnMut(toml::de::ValueDeserializer<'_>) -> Result<(), toml::de::Error>,
    ) -> bool {
        self.builder
            .deserialize_table(self.value, self.place, known, de)
    }

    fn secret(&mut self, fields: SecretFields<'_>) -> Option<Secret<String>> {
        self.builder.secret(fields, self.value.span())
    }

    fn duration(
        &mut self,
        value: &Option<Text>,
        default: Duration,
        max: Duration,
        name: &str,
    ) -> Option<Duration> {
        self.builder.duration(value, default, max, name)
    }
}
