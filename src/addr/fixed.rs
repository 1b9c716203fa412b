//! `kind = "static"`: addresses written in the config.

use std::net::IpAddr;

use futures::future::BoxFuture;

use super::policy::{select_plain, PolicyOptions, Select};
use super::{Candidate, Detection, Source, SourceError};
use crate::record::Family;

/// Settings of a static source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticSettings {
    /// The addresses, of either family.
    pub addresses: Vec<IpAddr>,
}

impl StaticSettings {
    /// The families of the configured addresses, each once.
    pub fn families(&self) -> Vec<Family> {
        let mut f: Vec<Family> = self.addresses.iter().map(Family::of).collect();
        f.sort();
        f.dedup();
        f
    }
}

/// A source that always yields the configured addresses.
#[derive(Debug)]
pub struct StaticSource {
    name: String,
    settings: StaticSettings,
}

impl StaticSource {
    /// A static source named `name`.
    pub fn new(name: String, settings: StaticSettings) -> StaticSource {
        StaticSource { name, settings }
    }

    fn detection(&self) -> Detection {
        // Every address the user wrote is published: they asked for it by value.
        let opts = PolicyOptions {
            allow_temporary: true,
            allow_ula: true,
            allow_private: true,
            select: Select::All,
        };
        let verdicts = select_plain(&self.settings.addresses, &opts);
        Detection {
            source: self.name.clone(),
            candidates: self
                .settings
                .addresses
                .iter()
                .zip(verdicts)
                .map(|(addr, verdict)| Candidate {
                    addr: *addr,
                    origin: "static".to_owned(),
                    verdict,
                    detail: None,
                    lifetime: None,
                })
                .collect(),
        }
    }
}

impl Source for StaticSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn families(&self) -> Vec<Family> {
        self.settings.families()
    }

    fn detect(&self) -> BoxFuture<'_, Result<Detection, SourceError>> {
        let d = self.detection();
        Box::pin(async move { Ok(d) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Verdict;

    #[test]
    fn yields_every_address_and_both_families() {
        let s = StaticSource::new(
            "fixed".into(),
            StaticSettings {
                addresses: vec!["2001:db8::1".parse().unwrap(), "192.0.2.7".parse().unwrap()],
            },
        );
        let d = s.detection();
        assert!(d.candidates.iter().all(|c| c.verdict == Verdict::Selected));
        assert_eq!(s.families(), vec![Family::Ipv4, Family::Ipv6]);
        assert_eq!(d.selected(Family::Ipv6).to_string(), "2001:db8::1");
    }
}
