//! How operations become commands: `cf-secondary-dns <group> <verb>`, as
//! `gh pr list` and `flarectl zone list`. The group is the spec's
//! `x-cli-group` (one per upstream tag, set in the overlay); the verb is the
//! operation id without the group's noun (`list_peers` → `list`,
//! `force_axfr` → `force-axfr`, `get_outgoing_status` → `status`). Rules, not
//! a list: an operation Cloudflare adds under a tag gets its command.

use crate::generated::CliCommand;

/// A group's noun (in messages) and its line in `--help`. A group the spec
/// gains gets a plain description until it has an entry here.
const GROUPS: &[(&str, &str, &str)] = &[
    (
        "peers",
        "peer",
        "Peers: the nameservers at the other end of a transfer (address, port, TSIG key)",
    ),
    ("tsigs", "TSIG key", "TSIG keys that sign zone transfers"),
    (
        "acls",
        "ACL",
        "ACLs: address ranges allowed to NOTIFY Cloudflare or to transfer zones from it",
    ),
    (
        "incoming",
        "secondary zone configuration",
        "Secondary zones: Cloudflare transfers the zone in from its primaries",
    ),
    (
        "outgoing",
        "primary zone configuration",
        "Primary zones: Cloudflare transfers the zone out to secondaries",
    ),
    (
        "zones",
        "zone",
        "Zones: create a secondary (or full) zone by its name, list, convert and delete zones",
    ),
    (
        "dns-settings",
        "zone's DNS settings",
        "A zone's DNS settings: multi-provider (apex NS records in outgoing transfers), secondary overrides",
    ),
];

/// The groups, in the order of [`GROUPS`], then any other in the spec's order.
pub fn all() -> Vec<&'static str> {
    let mut groups: Vec<&'static str> = GROUPS.iter().map(|(name, _, _)| *name).collect();
    for operation in CliCommand::iter() {
        if !groups.contains(&operation.group()) {
            groups.push(operation.group());
        }
    }
    groups.retain(|group| CliCommand::iter().any(|o| o.group() == *group));
    groups
}

/// The group's line in `--help`.
pub fn about(group: &str) -> String {
    GROUPS
        .iter()
        .find(|(name, _, _)| *name == group)
        .map_or_else(
            || format!("Operations on {group}"),
            |(_, _, about)| (*about).to_owned(),
        )
}

/// What one of the group's resources is called in messages.
pub fn noun(operation: CliCommand) -> &'static str {
    let group = operation.group();
    GROUPS
        .iter()
        .find(|(name, _, _)| *name == group)
        .map_or(group, |(_, noun, _)| noun)
}

/// The subcommand's name within its group.
pub fn verb(operation: CliCommand) -> String {
    // A group of several words (`dns-settings`) is dropped as a whole
    // (`get_dns_settings` → `get`), as is its singular (`zone`).
    let group = operation.group().replace('-', "_");
    let singular = group.strip_suffix('s').unwrap_or(&group);
    let id = operation.operation_id();
    let mut rest = format!("_{id}_");
    for noun in [group.as_str(), singular] {
        rest = rest.replacen(&format!("_{noun}_"), "_", 1);
    }
    let mut words: Vec<&str> = rest.split('_').filter(|word| !word.is_empty()).collect();
    // `get_outgoing_status` reads the status: `outgoing status`.
    if words.len() > 1 && words[0] == "get" {
        words.remove(0);
    }
    words.join("-")
}

/// Where the operation comes in its group's command list: the usual verbs
/// first, in a resource's life order, then the group's own actions.
pub fn rank(operation: CliCommand) -> (usize, String) {
    let verb = verb(operation);
    let usual = ["list", "get", "create", "update", "delete"];
    let rank = usual.iter().position(|v| *v == verb).unwrap_or(usual.len());
    (rank, verb)
}

/// The operation of `group` named `verb`.
pub fn find(group: &str, verb: &str) -> Option<CliCommand> {
    CliCommand::iter().find(|o| o.group() == group && self::verb(*o) == verb)
}

/// Whether the operation only reads (it is never confirmed or dry-run).
pub fn reads(operation: CliCommand) -> bool {
    let id = operation.operation_id();
    id.starts_with("get_") || id.starts_with("list_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_one_command() {
        let mut seen = std::collections::BTreeSet::new();
        for operation in CliCommand::iter() {
            let path = (operation.group(), verb(operation));
            assert!(!path.1.is_empty(), "{}", operation.operation_id());
            assert_eq!(
                find(path.0, &path.1).map(|o| o.operation_id()),
                Some(operation.operation_id())
            );
            assert!(seen.insert(path.clone()), "{path:?} twice");
        }
        assert_eq!(seen.len(), 35);
        let names: Vec<String> = seen.iter().map(|(g, v)| format!("{g} {v}")).collect();
        for expected in [
            "peers list",
            "tsigs update",
            "acls create",
            "incoming force-axfr",
            "outgoing enable",
            "outgoing force-notify",
            "outgoing status",
            "zones list",
            "zones create",
            "zones edit",
            "dns-settings get",
            "dns-settings update",
        ] {
            assert!(names.contains(&expected.to_owned()), "{names:?}");
        }
        assert_eq!(
            all(),
            [
                "peers",
                "tsigs",
                "acls",
                "incoming",
                "outgoing",
                "zones",
                "dns-settings"
            ]
        );
    }
}
