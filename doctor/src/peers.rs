//! A zone's peers as the API holds them, each with its TSIG key read: what
//! both directions probe with.

use std::net::SocketAddr;

use cloudflare_secondary_dns::types::{Peer, Zone};
use cloudflare_secondary_dns::{AccountIdentifier, ApiError, PeerIdentifier};

use crate::Doctor;
use crate::key::{KeyLint, SigningKey};
use crate::report::Check;

/// A peer read, with its key.
pub(crate) struct PeerFacts {
    pub peer: Peer,
    /// Its TSIG key, read (none when it has no `tsig_id`).
    pub key: Option<KeyLint>,
    /// Why its key could not be read, if so.
    pub key_error: Option<String>,
}

impl PeerFacts {
    /// `name (id)` for titles.
    pub fn label(&self) -> String {
        format!("peer {}", self.peer.name)
    }

    /// Where to probe it: its IP and port (53 when unset).
    pub fn address(&self) -> Option<SocketAddr> {
        let ip = self.peer.ip.as_ref()?.addr()?;
        Some(SocketAddr::new(ip, self.peer.port.unwrap_or(53)))
    }

    /// The key to sign with first (base64, as primaries read secrets).
    pub fn signing_key(&self) -> Option<&SigningKey> {
        self.key.as_ref()?.signing_keys.first()
    }

    /// Whether the peer names a key that cannot sign (so probes would go
    /// unsigned where Cloudflare signs).
    pub fn unsigned_for_cause(&self) -> Option<String> {
        self.peer.tsig_id.as_ref()?;
        match &self.key {
            None => Some(
                self.key_error
                    .clone()
                    .unwrap_or_else(|| "its TSIG key could not be read".to_owned()),
            ),
            Some(lint) if lint.signing_keys.is_empty() => Some(
                lint.cannot_sign
                    .clone()
                    .unwrap_or_else(|| "its TSIG key cannot sign".to_owned()),
            ),
            Some(_) => None,
        }
    }
}

/// Reads each peer of `ids` and its key; a peer that cannot be read is a
/// failed check (`id`, e.g. "I3").
pub(crate) async fn read_peers(
    doctor: &Doctor,
    zone: &Zone,
    ids: &[PeerIdentifier],
    id: &'static str,
    checks: &mut Vec<Check>,
) -> Vec<PeerFacts> {
    let Some(account) = doctor.account(zone) else {
        checks.push(Check::named(id, "peers").failure(
            "the zone names no account, so its peers cannot be read",
            "run the doctor with credentials that can read the zone's account",
        ));
        return Vec::new();
    };
    let mut peers = Vec::new();
    for peer_id in ids {
        match read_peer(doctor, &account, peer_id).await {
            Ok(peer) => {
                let (key, key_error) = match &peer.tsig_id {
                    None => (None, None),
                    Some(tsig_id) => match read_key(doctor, &account, tsig_id).await {
                        Ok(key) => (Some(key), None),
                        Err(err) => (None, Some(format!("cannot read its TSIG key: {err}"))),
                    },
                };
                peers.push(PeerFacts {
                    peer,
                    key,
                    key_error,
                });
            }
            Err(err) => checks.push(Check::named(id, format!("peer {peer_id}")).failure(
                format!("cannot read the peer: {err}"),
                "the configuration names a peer that cannot be read: relink an existing peer",
            )),
        }
    }
    peers
}

async fn read_peer(
    doctor: &Doctor,
    account: &AccountIdentifier,
    peer_id: &PeerIdentifier,
) -> Result<Peer, ApiError> {
    use cloudflare_secondary_dns::ResponseExt;
    let cached = doctor.cache.as_ref().and_then(|cache| {
        cache
            .peers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(peer_id.as_str())
            .cloned()
    });
    if let Some(peer) = cached {
        return Ok(peer);
    }
    let sent = doctor
        .client
        .get_peer()
        .account_id(account)
        .peer_id(peer_id)
        .send()
        .await;
    let peer = sent?.into_result()?;
    if let Some(cache) = &doctor.cache {
        let mut peers = cache.peers.lock().unwrap_or_else(|e| e.into_inner());
        peers.insert(peer_id.as_str().to_owned(), peer.clone());
    }
    Ok(peer)
}

async fn read_key(
    doctor: &Doctor,
    account: &AccountIdentifier,
    tsig_id: &str,
) -> Result<KeyLint, ApiError> {
    use cloudflare_secondary_dns::ResponseExt;
    let cached = doctor.cache.as_ref().and_then(|cache| {
        cache
            .tsigs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(tsig_id)
            .cloned()
    });
    if let Some(tsig) = cached {
        return Ok(KeyLint::of(&tsig));
    }
    let sent = doctor
        .client
        .get_tsig()
        .account_id(account)
        .tsig_id(tsig_id)
        .send()
        .await;
    let tsig = sent?.into_result()?;
    if let Some(cache) = &doctor.cache {
        let mut tsigs = cache.tsigs.lock().unwrap_or_else(|e| e.into_inner());
        tsigs.insert(tsig_id.to_owned(), tsig.clone());
    }
    Ok(KeyLint::of(&tsig))
}
