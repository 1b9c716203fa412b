//! Finding a record's zone among the domains of an account: the configured zone, else the one
//! remembered in the hints, else the longest listed domain that contains the name. The list is
//! fetched once per process and fetched again only when it has no match (a domain added to the
//! account since). One copy for every adapter whose API is organised by zone.

use std::future::Future;
use std::sync::Mutex;

use super::rows;
use crate::provider::{ProviderError, ProviderErrorKind, ProviderHints};
use crate::record::Fqdn;

/// The domains of one account, listed at most once per process unless a name misses.
#[derive(Debug, Default)]
pub struct ZoneCache {
    domains: Mutex<Option<Vec<Fqdn>>>,
}

impl ZoneCache {
    /// The zone of `name`: `configured`, else the hinted zone, else the longest domain from
    /// `list` (called at most twice: once to fill the cache, once more on a miss). `service`
    /// names the account in messages ("DNSPod").
    pub async fn zone_of<F, Fut>(
        &self,
        name: &Fqdn,
        configured: Option<&Fqdn>,
        hints: &ProviderHints,
        service: &str,
        mut list: F,
    ) -> Result<Fqdn, ProviderError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Vec<Fqdn>, ProviderError>>,
    {
        if let Some(z) = configured {
            return Ok(z.clone());
        }
        if let Some(z) = rows::hinted_zone(hints, name) {
            return Ok(z);
        }
        let cached = self.lock().clone();
        if let Some(z) = cached.as_deref().and_then(|d| longest_match(d, name)) {
            return Ok(z);
        }
        let fresh = list().await?;
        let found = longest_match(&fresh, name);
        *self.lock() = Some(fresh);
        found.ok_or_else(|| {
            ProviderError::new(
                ProviderErrorKind::ZoneNotFound,
                format!("no domain of this {service} account contains {name}"),
            )
            .with_hint(format!(
                "add the domain to {service}, or set zone in the provider's settings"
            ))
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Vec<Fqdn>>> {
        self.domains.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The longest of `domains` that equals `name` or contains it at a label boundary.
pub fn longest_match(domains: &[Fqdn], name: &Fqdn) -> Option<Fqdn> {
    domains
        .iter()
        .filter(|d| name.is_within(d))
        .max_by_key(|d| d.as_str().len())
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Fqdn {
        Fqdn::parse_relaxed(s).unwrap()
    }

    #[test]
    fn longest_suffix_at_a_label_boundary() {
        let d = [f("example.com"), f("sub.example.com"), f("ample.com")];
        assert_eq!(
            longest_match(&d, &f("a.sub.example.com")),
            Some(f("sub.example.com"))
        );
        assert_eq!(longest_match(&d, &f("example.com")), Some(f("example.com")));
        assert_eq!(longest_match(&d, &f("x.example.org")), None);
        assert_eq!(longest_match(&[f("ample.com")], &f("example.com")), None);
    }

    #[tokio::test]
    async fn lists_once_and_again_only_on_a_miss() {
        let cache = ZoneCache::default();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let list = || async {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(vec![f("example.com")])
        };
        let none = ProviderHints::default();
        let z = cache
            .zone_of(&f("a.example.com"), None, &none, "X", list)
            .await;
        assert_eq!(z.unwrap(), f("example.com"));
        let z = cache
            .zone_of(&f("b.example.com"), None, &none, "X", list)
            .await;
        assert_eq!(z.unwrap(), f("example.com"));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        let e = cache
            .zone_of(&f("a.example.org"), None, &none, "X", list)
            .await
            .unwrap_err();
        assert_eq!(e.kind, ProviderErrorKind::ZoneNotFound);
        assert_eq!(
            e.message,
            "no domain of this X account contains a.example.org"
        );
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
