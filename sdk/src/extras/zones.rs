//! Zones by name: [`Client::find_zone`] turns the name an operator types
//! into the one zone it names (one `GET /zones?name=`), and
//! [`Client::all_zones`] is every zone of a list, page after page, as a
//! `Stream` bounded against a server whose paging never ends.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use cloudflare_secondary_dns::extras::zones::ZoneQuery;
//! use cloudflare_secondary_dns::prelude::*;
//! use cloudflare_secondary_dns::ZoneType;
//! use futures_util::TryStreamExt;
//!
//! let client = Client::from_env()?;
//! let zone = client.find_zone("example.com", None).await?;
//! println!("{} is {}", zone.name, zone.id);
//!
//! let secondaries: Vec<_> = client
//!     .all_zones(ZoneQuery::new())
//!     .try_filter(|zone| std::future::ready(zone.type_ == Some(ZoneType::Secondary)))
//!     .try_collect()
//!     .await?;
//! println!("{} secondary zones", secondaries.len());
//! # Ok(())
//! # }
//! ```

use std::collections::HashSet;
use std::fmt::{self, Write as _};

use futures_util::Stream;

use crate::error::OneLine;
use crate::types::Zone;
use crate::{
    AccountIdentifier, ApiError, Client, InvalidZoneName, ResponseExt, ZoneName, ZoneStatus,
};

/// Zones asked for per page by [`Client::all_zones`]: Cloudflare's most.
pub const ZONES_PER_PAGE: u32 = 50;
/// The most pages [`Client::all_zones`] reads (500,000 zones): a server
/// whose paging never ends stops there, with [`ZoneListError::Runaway`].
pub const MAX_ZONE_PAGES: u32 = 10_000;

/// Why [`Client::find_zone`] found no one zone.
#[derive(Debug)]
#[non_exhaustive]
pub enum FindZoneError {
    /// The name is not a zone's name; nothing was sent.
    InvalidName(InvalidZoneName),
    /// The list call failed.
    Api(ApiError),
    /// No zone has this name (in this account, when one was given).
    NotFound {
        /// The name looked for.
        name: ZoneName,
    },
    /// Several zones have this name (in different accounts): give the
    /// account, or the zone's id.
    Several {
        /// The name looked for.
        name: ZoneName,
        /// Each zone's id and its account's id (empty when Cloudflare sent none).
        zones: Vec<(String, String)>,
    },
}

impl fmt::Display for FindZoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidName(error) => error.fmt(f),
            Self::Api(error) => write!(f, "{}", error.report()),
            Self::NotFound { name } => write!(f, "no zone is named {name}"),
            Self::Several { name, zones } => {
                write!(f, "{} zones are named {name}:", zones.len())?;
                for (zone, account) in zones {
                    // Ids as the server sent them: on one line, controls escaped.
                    write!(OneLine(&mut *f), " {zone} (account {account})")?;
                }
                f.write_str("; give the account or the zone's id")
            }
        }
    }
}

impl std::error::Error for FindZoneError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidName(error) => Some(error),
            Self::Api(error) => Some(error),
            _ => None,
        }
    }
}

impl From<ApiError> for FindZoneError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl From<InvalidZoneName> for FindZoneError {
    fn from(error: InvalidZoneName) -> Self {
        Self::InvalidName(error)
    }
}

/// Why [`Client::all_zones`] stopped before the list's end.
#[derive(Debug)]
#[non_exhaustive]
pub enum ZoneListError {
    /// A page's call failed.
    Api(ApiError),
    /// The server's paging did not end: it gave a page already read again,
    /// or more than [`MAX_ZONE_PAGES`] pages.
    Runaway {
        /// The page at which reading stopped.
        page: u32,
        /// What was wrong.
        why: &'static str,
    },
}

impl fmt::Display for ZoneListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Api(error) => write!(f, "{}", error.report()),
            Self::Runaway { page, why } => {
                write!(f, "the zone list stopped at page {page}: {why}")
            }
        }
    }
}

impl std::error::Error for ZoneListError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Api(error) => Some(error),
            Self::Runaway { .. } => None,
        }
    }
}

impl From<ApiError> for ZoneListError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

/// Which zones [`Client::all_zones`] lists: all by default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ZoneQuery {
    /// Only zones with this name (Cloudflare's filter; at most one per account).
    pub name: Option<ZoneName>,
    /// Only zones with this status.
    pub status: Option<ZoneStatus>,
    /// Only zones of this account.
    pub account: Option<AccountIdentifier>,
}

impl ZoneQuery {
    /// Every zone the credentials see.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only zones with this name.
    pub fn name(mut self, name: ZoneName) -> Self {
        self.name = Some(name);
        self
    }

    /// Only zones with this status.
    pub fn status(mut self, status: ZoneStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Only zones of this account.
    pub fn account(mut self, account: AccountIdentifier) -> Self {
        self.account = Some(account);
        self
    }
}

impl Client {
    /// The one zone named `name` (in `account`, when given), from one
    /// `GET /zones?name=` call. The name is checked first
    /// ([`ZoneName::new`]: one trailing dot and upper case are fine); no zone
    /// or several (in different accounts) are typed errors naming them.
    pub async fn find_zone(
        &self,
        name: &str,
        account: Option<&AccountIdentifier>,
    ) -> Result<Zone, FindZoneError> {
        let name = ZoneName::new(name)?;
        let mut request = self
            .list_zones()
            .name(name.as_str())
            .per_page(ZONES_PER_PAGE);
        if let Some(account) = account {
            request = request.account_id(*account);
        }
        let zones = request.send().await?.into_result()?;
        // Cloudflare's `name` filter is exact by default; a server that
        // answers with more is not believed beyond the name asked for.
        let mut matching: Vec<Zone> = zones
            .into_iter()
            .filter(|zone| name.matches(&zone.name))
            .collect();
        match matching.len() {
            0 => Err(FindZoneError::NotFound { name }),
            1 => Ok(matching.remove(0)),
            _ => Err(FindZoneError::Several {
                name,
                zones: matching
                    .into_iter()
                    .map(|zone| {
                        let account = zone
                            .account
                            .and_then(|account| account.id)
                            .unwrap_or_default();
                        (zone.id, account)
                    })
                    .collect(),
            }),
        }
    }

    /// Every zone `query` selects, [`ZONES_PER_PAGE`] a call, read as the
    /// stream is polled (paced as every call is). It ends after the last
    /// page (`result_info.total_pages`, or a page shorter than asked for);
    /// a page read twice (the same first zone) or more than
    /// [`MAX_ZONE_PAGES`] pages end it with [`ZoneListError::Runaway`], and
    /// a failed call with [`ZoneListError::Api`] (nothing is retried beyond
    /// the client's retry policy).
    pub fn all_zones(
        &self,
        query: ZoneQuery,
    ) -> impl Stream<Item = Result<Zone, ZoneListError>> + Send + '_ {
        struct Paging {
            page: u32,
            pending: std::vec::IntoIter<Zone>,
            done: bool,
            first_ids: HashSet<String>,
        }
        let start = Paging {
            page: 0,
            pending: Vec::new().into_iter(),
            done: false,
            first_ids: HashSet::new(),
        };
        futures_util::stream::unfold((start, query), move |(mut paging, query)| async move {
            loop {
                if let Some(zone) = paging.pending.next() {
                    return Some((Ok(zone), (paging, query)));
                }
                if paging.done {
                    return None;
                }
                if paging.page >= MAX_ZONE_PAGES {
                    paging.done = true;
                    let error = ZoneListError::Runaway {
                        page: paging.page,
                        why: "more pages than the most read (MAX_ZONE_PAGES)",
                    };
                    return Some((Err(error), (paging, query)));
                }
                paging.page += 1;
                match self.zone_page(&query, paging.page).await {
                    Err(error) => {
                        paging.done = true;
                        return Some((Err(error.into()), (paging, query)));
                    }
                    Ok((zones, total_pages)) => {
                        let short = zones.len() < ZONES_PER_PAGE as usize;
                        let last = total_pages.is_some_and(|total| i64::from(paging.page) >= total);
                        if let Some(first) = zones.first()
                            && !paging.first_ids.insert(first.id.clone())
                        {
                            paging.done = true;
                            let error = ZoneListError::Runaway {
                                page: paging.page,
                                why: "the server sent a page already read",
                            };
                            return Some((Err(error), (paging, query)));
                        }
                        paging.done = zones.is_empty() || short || last;
                        paging.pending = zones.into_iter();
                    }
                }
            }
        })
    }

    /// One page of a zone list, and the number of pages the server says
    /// there are.
    async fn zone_page(
        &self,
        query: &ZoneQuery,
        page: u32,
    ) -> Result<(Vec<Zone>, Option<i64>), ApiError> {
        let mut request = self.list_zones().page(page).per_page(ZONES_PER_PAGE);
        if let Some(name) = &query.name {
            request = request.name(name.as_str());
        }
        if let Some(status) = &query.status {
            request = request.status(status.clone());
        }
        if let Some(account) = &query.account {
            request = request.account_id(*account);
        }
        let envelope = request.send().await?.into_inner();
        let total_pages = envelope
            .result_info
            .as_ref()
            .and_then(|info| info.total_pages);
        Ok((envelope.result.unwrap_or_default(), total_pages))
    }
}
