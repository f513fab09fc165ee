//! JSON Schemas of the hand-written types that appear in generated ones, so
//! that the generated types can derive `schemars::JsonSchema` (the `schemars`
//! feature; the command-line tool needs it to print responses). Each says what
//! the spec says of the schema it replaces.

use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::{InstanceType, Schema, SchemaObject};

use crate::const_bool::ConstBool;
use crate::envelope::Messages;
use crate::ids::{Identifier, IdentifierKind};
use crate::peer_ip::PeerIp;
use crate::secret::TsigSecret;
use crate::types::ResponseInfo;
use crate::{ForceOutcome, IpRange, Timestamp, TransferStatus, ZoneName, ZoneStatus, ZoneType};

impl<const VALUE: bool> JsonSchema for ConstBool<VALUE> {
    fn schema_name() -> String {
        format!("Const{}", if VALUE { "True" } else { "False" })
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        SchemaObject {
            instance_type: Some(InstanceType::Boolean.into()),
            enum_values: Some(vec![VALUE.into()]),
            ..Default::default()
        }
        .into()
    }
}

impl JsonSchema for Messages {
    fn schema_name() -> String {
        "Messages".to_owned()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        <Vec<ResponseInfo>>::json_schema(generator)
    }
}

impl JsonSchema for TsigSecret {
    fn schema_name() -> String {
        "TsigSecret".to_owned()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        String::json_schema(generator)
    }
}

impl JsonSchema for PeerIp {
    fn schema_name() -> String {
        "PeerIp".to_owned()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        SchemaObject {
            instance_type: Some(InstanceType::String.into()),
            format: Some("ip".to_owned()),
            ..Default::default()
        }
        .into()
    }
}

/// A string schema with a format, for the hand-written string types.
macro_rules! string_schema {
    ($type:ty, $name:literal, $format:expr) => {
        impl JsonSchema for $type {
            fn schema_name() -> String {
                $name.to_owned()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                SchemaObject {
                    instance_type: Some(InstanceType::String.into()),
                    format: $format,
                    ..Default::default()
                }
                .into()
            }
        }
    };
}

string_schema!(IpRange, "IpRange", Some("cidr".to_owned()));
string_schema!(Timestamp, "Timestamp", None);
string_schema!(TransferStatus, "TransferStatus", None);
string_schema!(ForceOutcome, "ForceOutcome", None);
string_schema!(ZoneName, "ZoneName", Some("hostname".to_owned()));
string_schema!(ZoneType, "ZoneType", None);
string_schema!(ZoneStatus, "ZoneStatus", None);

impl<K: IdentifierKind> JsonSchema for Identifier<K> {
    fn schema_name() -> String {
        "Identifier".to_owned()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        SchemaObject {
            instance_type: Some(InstanceType::String.into()),
            string: Some(Box::new(schemars::schema::StringValidation {
                max_length: Some(32),
                min_length: Some(32),
                pattern: Some("^[0-9a-f]{32}$".to_owned()),
            })),
            ..Default::default()
        }
        .into()
    }
}
