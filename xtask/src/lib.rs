//! Regenerates the sdk from Cloudflare's spec, in two hops:
//! the vendored upstream subset + `openapi/overlay.yaml` → `openapi/secondary-dns.yaml`
//! (`fragment`), then that spec → `sdk/src/generated.rs` (`generate_sdk`).
//!
//! Both hops are pure functions of their inputs (and the generator version),
//! so the CLI (`cargo xtask generate [--check]`) and the tests share them and
//! the output is deterministic.

use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};

pub mod fragment;
pub mod overlay;
pub mod preflight;
pub mod shape;
pub mod upstream;

/// The spec the sdk is generated from (itself generated), relative to the workspace root.
pub const SPEC_PATH: &str = "openapi/secondary-dns.yaml";
/// The generated client, relative to the workspace root.
pub const GENERATED_PATH: &str = "sdk/src/generated.rs";
/// The generated typed mocks (progenitor's httpmock extension), relative to the workspace root.
pub const HTTPMOCK_PATH: &str = "sdk-httpmock/src/generated.rs";
/// The generated command-line definitions, relative to the workspace root.
pub const CLI_PATH: &str = "cli/src/generated.rs";
/// The crate path the mocks and the CLI refer to the sdk's types by.
const SDK_CRATE: &str = "cloudflare_secondary_dns";

pub type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// The workspace root, found from this crate's manifest so that the tasks
/// work from any directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// The progenitor version that `Cargo.lock` pins, recorded in the header so a
/// diff of the generated file says which generator made it.
pub fn locked_progenitor_version(cargo_lock: &str) -> Result<String> {
    let mut lines = cargo_lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == r#"name = "progenitor""#
            && let Some(version) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
        {
            return Ok(version.trim_matches('"').to_owned());
        }
    }
    Err("Cargo.lock has no `progenitor` package".into())
}

/// The generator settings for `spec`: the one place where the shape of the
/// sdk's generated surface is decided.
fn settings(spec: &openapiv3::OpenAPI) -> Result<GenerationSettings> {
    let mut settings = base_settings();
    // Every generated type can grow when Cloudflare adds a field or a value:
    // structs and enums are `#[non_exhaustive]`, so consumers build structs
    // through their builders (`types::PeerUpdate::builder().name(..)`), never
    // by literal, match enums with a wildcard arm, and an additive
    // regeneration breaks nobody (as in the AWS SDK for Rust).
    //
    // The generated CLI prints responses through bounds that include
    // `schemars::JsonSchema`; the sdk derives it only with its `schemars`
    // feature, so that other consumers do not compile schemars.
    //
    // The types are the ones progenitor makes of this spec (a first pass),
    // not a list kept by hand: a schema Cloudflare adds, named or inline, an
    // object or an enum, gets both with no edit here.
    let mut growable = progenitor::TypePatch::default();
    growable
        .with_attr("#[non_exhaustive]")
        .with_attr(SCHEMARS_DERIVE);
    let mut newtype = progenitor::TypePatch::default();
    newtype.with_attr(SCHEMARS_DERIVE);
    for (name, kind) in generated_types(spec)? {
        match kind {
            TypeKind::Struct | TypeKind::Enum => settings.with_patch(name, &growable),
            TypeKind::Newtype => settings.with_patch(name, &newtype),
        };
    }
    Ok(settings)
}

const SCHEMARS_DERIVE: &str =
    r#"#[cfg_attr(feature = "schemars", derive(::schemars::JsonSchema))]"#;

/// What kind of Rust type progenitor made of a schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TypeKind {
    Struct,
    Enum,
    Newtype,
}

/// The types progenitor generates for `spec` (structs, enums, newtypes),
/// by name, sorted.
pub fn generated_types(spec: &openapiv3::OpenAPI) -> Result<Vec<(String, TypeKind)>> {
    let mut generator = Generator::new(&base_settings());
    generator
        .generate_tokens(spec)
        .map_err(|e| format!("progenitor could not generate the types of {SPEC_PATH}: {e}"))?;
    let mut types: Vec<(String, TypeKind)> = generator
        .get_type_space()
        .iter_types()
        .filter_map(|ty| {
            let kind = match ty.details() {
                typify::TypeDetails::Struct(_) => TypeKind::Struct,
                typify::TypeDetails::Enum(_) => TypeKind::Enum,
                typify::TypeDetails::Newtype(_) => TypeKind::Newtype,
                _ => return None,
            };
            Some((ty.name(), kind))
        })
        .collect();
    types.sort();
    types.dedup();
    Ok(types)
}

/// The settings that do not depend on the spec's types.
fn base_settings() -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        // `client.update_peer().account_id(..).peer_id(..).body(..).send()`
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_derive("PartialEq")
        // The hand-written hooks (sdk/src/runtime/mod.rs) drop the api-version
        // header and run the retry policy: without them the client is wrong,
        // so a missing `impl ClientHooks` must not compile.
        .with_hooks(HooksMode::Expected)
        .with_inner_type(
            "crate::ClientPolicy"
                .parse()
                .expect("a type path is a token stream"),
        )
        // typify turns `{type: boolean, enum: [true]}` into a plain `bool`,
        // silently accepting `"success": false` in a 200 body. These
        // hand-written types (sdk/src/const_bool.rs) accept only the constant.
        .with_conversion(
            boolean_constant(true),
            "crate::const_bool::ConstTrue",
            std::iter::empty(),
        )
        .with_conversion(
            boolean_constant(false),
            "crate::const_bool::ConstFalse",
            std::iter::empty(),
        )
        // `errors` and `messages` are informational: absent or null must
        // not make a response undecodable (sdk/src/envelope.rs).
        .with_replacement(
            "Messages",
            "crate::envelope::Messages",
            [progenitor::TypeImpl::Default].into_iter(),
        )
        // A peer's ip, the same type read and written: an address when a
        // caller sets it, any string Cloudflare sends kept verbatim.
        // (`FromStr` and `Display` make it a flag of the CLI, `--ip`.)
        .with_replacement(
            "PeerIp",
            "crate::PeerIp",
            [progenitor::TypeImpl::FromStr, progenitor::TypeImpl::Display].into_iter(),
        )
        // An ACL's CIDR and a configuration's times: typed when a caller
        // builds them, anything Cloudflare sends kept (sdk/src/ip_range.rs,
        // sdk/src/timestamp.rs); the string results of the transfer actions
        // as enums that keep an unknown string (sdk/src/status.rs).
        .with_replacement(
            "IpRange",
            "crate::IpRange",
            [progenitor::TypeImpl::FromStr, progenitor::TypeImpl::Display].into_iter(),
        )
        .with_replacement(
            "Timestamp",
            "crate::Timestamp",
            [progenitor::TypeImpl::FromStr, progenitor::TypeImpl::Display].into_iter(),
        )
        .with_replacement(
            "TransferStatus",
            "crate::TransferStatus",
            [progenitor::TypeImpl::FromStr, progenitor::TypeImpl::Display].into_iter(),
        )
        .with_replacement(
            "ForceOutcome",
            "crate::ForceOutcome",
            [progenitor::TypeImpl::FromStr, progenitor::TypeImpl::Display].into_iter(),
        )
        // A zone's name as a caller sends it (checked before sending), its
        // type and its status as enums that keep a value Cloudflare adds
        // (sdk/src/zone.rs).
        .with_replacement(
            "ZoneName",
            "crate::ZoneName",
            [progenitor::TypeImpl::FromStr, progenitor::TypeImpl::Display].into_iter(),
        )
        .with_replacement(
            "ZoneType",
            "crate::ZoneType",
            [progenitor::TypeImpl::FromStr, progenitor::TypeImpl::Display].into_iter(),
        )
        .with_replacement(
            "ZoneStatus",
            "crate::ZoneStatus",
            [progenitor::TypeImpl::FromStr, progenitor::TypeImpl::Display].into_iter(),
        )
        // Generated types derive Debug; the TSIG secret must never print.
        .with_replacement(
            "TsigSecret",
            "crate::secret::TsigSecret",
            std::iter::empty(),
        );
    // Path identifiers: the rule of the spec's pattern, checked with a byte
    // test instead of typify's regex, with an error that says why.
    for kind in PATH_IDENTIFIER_KINDS {
        settings.with_replacement(
            format!("{kind}Identifier"),
            format!("crate::{kind}Identifier"),
            std::iter::empty(),
        );
    }
    settings
}

/// The identifiers in the spec's paths, each swapped for the sdk's
/// `crate::{kind}Identifier`: 32 lowercase hexadecimal characters, checked
/// before a request is built.
pub const PATH_IDENTIFIER_KINDS: [&str; 5] = ["Account", "Peer", "Tsig", "Zone", "Acl"];

fn boolean_constant(value: bool) -> schemars::schema::SchemaObject {
    schemars::schema::SchemaObject {
        instance_type: Some(schemars::schema::InstanceType::Boolean.into()),
        enum_values: Some(vec![serde_json::Value::Bool(value)]),
        ..Default::default()
    }
}

/// What progenitor makes: the client, the typed mocks, or the CLI.
#[derive(Clone, Copy, Debug)]
enum Output {
    Client,
    Mocks,
    Cli,
}

/// Generates the sdk's `generated.rs` from the spec text.
pub fn generate_sdk(spec_yaml: &str, progenitor_version: &str) -> Result<String> {
    Prepared::new(spec_yaml)?.generate(Output::Client, progenitor_version)
}

/// Generates the typed httpmock extension (`sdk-httpmock`) from the spec
/// text, with the same settings as the sdk so that its types are the sdk's.
pub fn generate_httpmock(spec_yaml: &str, progenitor_version: &str) -> Result<String> {
    Prepared::new(spec_yaml)?.generate(Output::Mocks, progenitor_version)
}

/// Generates the command-line tool's subcommands (clap definitions and the
/// calls they make) from the spec text, with the same settings as the sdk.
pub fn generate_cli(spec_yaml: &str, progenitor_version: &str) -> Result<String> {
    Prepared::new(spec_yaml)?.generate(Output::Cli, progenitor_version)
}

/// A parsed spec and the settings made for it, shared by the three outputs.
struct Prepared<'a> {
    yaml: &'a str,
    spec: openapiv3::OpenAPI,
    settings: GenerationSettings,
}

impl<'a> Prepared<'a> {
    fn new(yaml: &'a str) -> Result<Self> {
        let as_json: serde_json::Value = serde_yaml_ng::from_str(yaml)
            .map_err(|e| format!("{SPEC_PATH} is not a valid OpenAPI 3.0 document: {e}"))?;
        preflight::check(&as_json)?;
        let spec = parse_spec(yaml)?;
        let settings = preflight::without_panics("the spec's types", || settings(&spec))?;
        Ok(Self {
            yaml,
            spec,
            settings,
        })
    }

    /// One of progenitor's outputs, formatted and headed.
    fn generate(&self, output: Output, progenitor_version: &str) -> Result<String> {
        let what = match output {
            Output::Client => "the client",
            Output::Mocks => "the mocks",
            Output::Cli => "the CLI",
        };
        preflight::without_panics(what, || self.generate_unguarded(output, progenitor_version))
    }

    fn generate_unguarded(&self, output: Output, progenitor_version: &str) -> Result<String> {
        let mut generator = Generator::new(&self.settings);
        let tokens = match output {
            Output::Client => generator.generate_tokens(&self.spec),
            Output::Mocks => generator.httpmock(&self.spec, SDK_CRATE),
            Output::Cli => generator.cli(&self.spec, SDK_CRATE),
        };
        let what = match output {
            Output::Client => "a client",
            Output::Mocks => "mocks",
            Output::Cli => "the CLI",
        };
        let tokens = tokens
            .map_err(|e| format!("progenitor could not generate {what} from {SPEC_PATH}: {e}"))?;
        let mut file: syn::File = syn::parse2(tokens)?;
        match output {
            Output::Client => shape::client(&mut file, &shape::SpecFacts::of(&self.spec)),
            Output::Mocks => shape::mocks(&mut file),
            Output::Cli => shape::cli(&mut file, &shape::SpecFacts::of(&self.spec)),
        }
        .map_err(|e| format!("shaping {what} from {SPEC_PATH}: {e}"))?;
        with_header(file, self.yaml, progenitor_version)
    }
}

fn parse_spec(spec_yaml: &str) -> Result<openapiv3::OpenAPI> {
    serde_yaml_ng::from_str(spec_yaml)
        .map_err(|e| format!("{SPEC_PATH} is not a valid OpenAPI 3.0 document: {e}").into())
}

fn with_header(file: syn::File, spec_yaml: &str, progenitor_version: &str) -> Result<String> {
    let spec_sha256 = upstream::sha256_hex(spec_yaml.as_bytes());
    Ok(format!(
        "// @generated by `cargo xtask generate` from {SPEC_PATH}. DO NOT EDIT.\n\
         // To change this file, change openapi/overlay.yaml (or import a newer upstream)\n\
         // or the settings in xtask/src/lib.rs, then run `cargo xtask generate`.\n\
         // progenitor {progenitor_version}; spec sha256 {spec_sha256}\n\n{}",
        prettyplease::unparse(&file)
    ))
}

/// Every file `cargo xtask generate` writes, with the text it should hold.
#[derive(Debug)]
pub struct Outputs {
    pub files: Vec<(&'static str, String)>,
}

/// Runs the whole pipeline on the inputs under `root`: the vendored subset
/// and the overlay make the spec (and the README's table of differences),
/// the spec makes the sdk code.
pub fn generate_workspace(root: &Path) -> Result<Outputs> {
    let subset = read(&root.join(upstream::SUBSET_PATH))?;
    let overlay_text = read(&root.join(fragment::OVERLAY_PATH))?;
    let fragment =
        preflight::without_panics("the overlay", || fragment::build(&subset, &overlay_text))?;
    let spec = fragment.yaml;
    let readme = fragment::with_differences_table(
        &read(&root.join(fragment::README_PATH))?,
        &fragment.differences_table,
    )?;
    let lock = read(&root.join("Cargo.lock"))?;
    let progenitor_version = locked_progenitor_version(&lock)?;
    let prepared = Prepared::new(&spec)?;
    let code = prepared.generate(Output::Client, &progenitor_version)?;
    let mocks = prepared.generate(Output::Mocks, &progenitor_version)?;
    let cli = prepared.generate(Output::Cli, &progenitor_version)?;
    Ok(Outputs {
        files: vec![
            (SPEC_PATH, spec),
            (fragment::README_PATH, readme),
            (GENERATED_PATH, code),
            (HTTPMOCK_PATH, mocks),
            (CLI_PATH, cli),
        ],
    })
}

/// The sdk code the pipeline makes from the inputs under `root`.
pub fn generate_from_workspace(root: &Path) -> Result<String> {
    let outputs = generate_workspace(root)?;
    Ok(outputs
        .files
        .into_iter()
        .find(|(path, _)| *path == GENERATED_PATH)
        .map(|(_, code)| code)
        .expect("the pipeline makes the sdk code"))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()).into())
}

/// A unified diff of `committed` against `fresh`, cut to `max_lines` lines.
pub fn short_diff(committed: &str, fresh: &str, max_lines: usize) -> String {
    short_diff_of(GENERATED_PATH, committed, fresh, max_lines)
}

/// A unified diff of the committed `path` against its regenerated text, cut
/// to `max_lines` lines.
pub fn short_diff_of(path: &str, committed: &str, fresh: &str, max_lines: usize) -> String {
    let diff = similar::TextDiff::from_lines(committed, fresh)
        .unified_diff()
        .context_radius(2)
        .header(path, "regenerated")
        .to_string();
    let total = diff.lines().count();
    let mut out: String = diff
        .lines()
        .take(max_lines)
        .map(|l| format!("{l}\n"))
        .collect();
    if total > max_lines {
        let _ = writeln!(out, "... ({} more diff lines)", total - max_lines);
    }
    out
}
