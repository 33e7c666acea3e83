//! The versions of the `crossdock:connector` contract this host speaks, and what each one
//! lets the host ask of a plugin. A plugin is bound to exactly one version, read from its
//! manifest and checked against what the component really exports.

use std::fmt;

/// A contract version this host speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Contract {
    /// `crossdock:connector@0.1.0`: catalog reads, listings, prices, stock, review status.
    V0_1,
    /// `crossdock:connector@0.2.0`: adds `activate-listing`, `read-listing` and
    /// `config.set-secret`.
    V0_2,
    /// `crossdock:connector@0.3.0`: adds orders, fulfillment and after-sale (`channel-orders`,
    /// `channel-webhooks`, `store-orders`, the store's `order-changed` event).
    V0_3,
}

impl Contract {
    /// Every version this host speaks, oldest first.
    pub const ALL: [Contract; 3] = [Contract::V0_1, Contract::V0_2, Contract::V0_3];
    /// The version new plugins are built against.
    pub const CURRENT: Contract = Contract::V0_3;

    /// `0.3.0`.
    pub fn as_str(self) -> &'static str {
        match self {
            Contract::V0_1 => "0.1.0",
            Contract::V0_2 => "0.2.0",
            Contract::V0_3 => "0.3.0",
        }
    }

    /// The version a plugin built for `version` speaks: within 0.x the minor version must
    /// match (0.2.3 is 0.2), as semver prescribes for pre-1.0 versions; none for versions this
    /// host does not speak.
    pub fn of(version: &str) -> Option<Contract> {
        let mut parts = version.trim().split('.');
        let major: u64 = parts.next()?.parse().ok()?;
        let minor: u64 = parts.next()?.parse().ok()?;
        if let Some(patch) = parts.next() {
            patch.parse::<u64>().ok()?;
        }
        if parts.next().is_some() {
            return None;
        }
        match (major, minor) {
            (0, 1) => Some(Contract::V0_1),
            (0, 2) => Some(Contract::V0_2),
            (0, 3) => Some(Contract::V0_3),
            _ => None,
        }
    }

    /// Whether a channel plugin of this version can put a deactivated listing back on sale
    /// (`activate-listing`).
    pub fn supports_activation(self) -> bool {
        self >= Contract::V0_2
    }

    /// Whether a channel plugin of this version can read back what the channel holds
    /// (`read-listing`), which drift detection needs.
    pub fn supports_read_listing(self) -> bool {
        self >= Contract::V0_2
    }

    /// Whether a plugin of this version can keep rotated credentials (`config.set-secret`).
    pub fn supports_set_secret(self) -> bool {
        self >= Contract::V0_2
    }

    /// Whether a plugin of this version carries orders: a channel's orders, shipments,
    /// cancellations and returns, or a store's order creation, fulfillments and refunds.
    pub fn supports_orders(self) -> bool {
        self >= Contract::V0_3
    }

    /// What a store plugin of this version cannot do, for `plugin inspect` and the admin
    /// pages; empty for the current version.
    pub fn missing_store_operations(self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if !self.supports_orders() {
            missing.push("store-orders (channel orders are not created in this store; catalog only)");
        }
        if !self.supports_set_secret() {
            missing.push("config.set-secret (a refreshed token is not kept between calls)");
        }
        missing
    }

    /// What a channel plugin of this version cannot do, for `plugin inspect` and the admin
    /// pages; empty for the current version.
    pub fn missing_channel_operations(self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if !self.supports_orders() {
            missing.push(
                "channel-orders and channel-webhooks (this shop's orders, shipments, cancellations and returns \
                 do not sync; catalog only)",
            );
        }
        if !self.supports_activation() {
            missing.push("activate-listing (deactivated listings cannot be put back on sale)");
        }
        if !self.supports_read_listing() {
            missing.push("read-listing (drift made in the platform's back office goes unseen)");
        }
        if !self.supports_set_secret() {
            missing.push("config.set-secret (a refreshed token is not kept between calls)");
        }
        missing
    }

    /// `0.1.0 and 0.2.0`, for messages.
    pub fn spoken() -> String {
        let all: Vec<&str> = Contract::ALL.iter().map(|c| c.as_str()).collect();
        match all.split_last() {
            Some((last, [])) => last.to_string(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        }
    }
}

impl fmt::Display for Contract {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_semver_for_zero_major() {
        assert_eq!(Contract::of("0.1.0"), Some(Contract::V0_1));
        assert_eq!(Contract::of("0.1.3"), Some(Contract::V0_1));
        assert_eq!(Contract::of("0.2.0"), Some(Contract::V0_2));
        assert_eq!(Contract::of("0.3.0"), Some(Contract::V0_3));
        assert_eq!(Contract::of("0.4.0"), None);
        assert_eq!(Contract::of("1.0.0"), None);
        assert_eq!(Contract::of("0.2.x"), None);
        assert_eq!(Contract::of("garbage"), None);
    }

    #[test]
    fn only_the_new_version_activates_and_reads_back() {
        assert!(!Contract::V0_1.supports_activation() && !Contract::V0_1.supports_read_listing());
        assert!(Contract::V0_2.supports_activation() && Contract::V0_2.supports_read_listing());
        assert_eq!(Contract::V0_1.missing_channel_operations().len(), 4);
        assert_eq!(Contract::V0_2.missing_channel_operations().len(), 1);
        assert_eq!(Contract::V0_2.missing_store_operations().len(), 1);
        assert!(Contract::CURRENT.missing_channel_operations().is_empty());
        assert!(Contract::CURRENT.missing_store_operations().is_empty());
        assert!(!Contract::V0_2.supports_orders() && Contract::V0_3.supports_orders());
        assert_eq!(Contract::spoken(), "0.1.0, 0.2.0 and 0.3.0");
    }

    #[test]
    fn the_published_version_constants_agree() {
        let all: Vec<&str> = Contract::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(all, crate::connectors::CONTRACT_VERSIONS);
        assert_eq!(Contract::CURRENT.as_str(), crate::connectors::CONTRACT_VERSION);
    }
}
