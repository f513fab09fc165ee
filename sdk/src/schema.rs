//! JSON Schemas of the hand-written types that appear in generated ones, so
//! that the generated types can derive `schemars::JsonSchema` (the `schemars`
//! feature; the command-line tool needs it to print responses). Each says what
//! the spec says of the schema it replaces.

use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::{InstanceType, Schema, SchemaObject};

use crate::const_bool::ConstBool;
use crate::envelope::Messages;
use crate::peer_ip::PeerIp;
use crate::secret::TsigSecret;
use crate::types::ResponseInfo;

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
