//! The reference document as the decoder reads it: a hand-written serde visitor that borrows
//! strings from the input, records each field's value and the column of its key, and notes the
//! first structural problem (unknown or repeated field) instead of failing. It fills a
//! [`RawSignal`] the caller owns ([`RawSignalSeed`]), so what was read before a syntax error —
//! the trace id — survives it.

use crate::decode::SignalInput;
use crate::refusal::{Found, Problem, Snippet};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use tradeflow_core::ErrorCode;

/// A JSON value as far as the decoder cares.
enum Value<'a> {
    Str(Cow<'a, str>),
    Num(f64),
    Null,
    Object,
    Array,
    Bool,
}

impl<'a> Value<'a> {
    fn found(&self) -> Found {
        match self {
            Value::Str(_) => Found::String,
            Value::Num(_) => Found::Number,
            Value::Null => Found::Null,
            Value::Object => Found::Object,
            Value::Array => Found::Array,
            Value::Bool => Found::Bool,
        }
    }

    /// A number, or a string holding one (the reference's pydantic coercion).
    fn number(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// A field's problem before the trace id is attached: code, problem, column.
pub(crate) type FieldIssue = (ErrorCode, Problem, u32);

/// The reference document's fields, each as found (absent = `None`).
#[derive(Default)]
pub(crate) struct RawSignal<'a> {
    /// Address of the text being parsed (columns of borrowed keys are computed from it).
    base: usize,
    fields: [Option<Value<'a>>; Field::COUNT],
    /// 1-based column of each field's key (0 = not known, e.g. an escaped key).
    columns: [u32; Field::COUNT],
    /// The first structural problem met while parsing (unknown or repeated field).
    issue: Option<FieldIssue>,
}

impl<'a> RawSignal<'a> {
    /// An empty record for parsing `text` (key columns are counted from its start).
    pub(crate) fn over(text: &str) -> RawSignal<'a> {
        RawSignal { base: text.as_ptr() as usize, ..RawSignal::default() }
    }

    fn get(&self, f: Field) -> Option<&Value<'a>> {
        self.fields[f as usize].as_ref()
    }

    fn column(&self, f: Field) -> u32 {
        self.columns[f as usize]
    }

    /// The trace id text, when the document has a string there.
    pub(crate) fn trace_text(&self) -> Option<&str> {
        match self.get(Field::TraceId) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    fn wrong_type(&self, f: Field, expected: &'static str, v: &Value<'_>) -> FieldIssue {
        (ErrorCode::JsonType, Problem::WrongType { field: f.name(), expected, found: v.found() }, self.column(f))
    }

    /// A required string field.
    fn required_str(&self, f: Field) -> Result<&str, FieldIssue> {
        match self.get(f) {
            None => Err((ErrorCode::MissingField, Problem::MissingField(f.name()), 0)),
            Some(Value::Str(s)) => Ok(s),
            Some(v) => Err(self.wrong_type(f, "a string", v)),
        }
    }

    /// An optional number (or numeric string); `null` = absent.
    fn optional_number(&self, f: Field) -> Result<Option<f64>, FieldIssue> {
        match self.get(f) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.number().map(Some).ok_or_else(|| self.wrong_type(f, "a number", v)),
        }
    }

    /// Checks presence and types of every field, in document-definition order.
    pub(crate) fn to_input(&self) -> Result<SignalInput<'_>, FieldIssue> {
        if let Some(issue) = self.issue {
            return Err(issue);
        }
        let symbol = self.required_str(Field::Symbol)?;
        let side = self.required_str(Field::Side)?;
        let confidence = match self.get(Field::Confidence) {
            None => return Err((ErrorCode::MissingField, Problem::MissingField("confidence"), 0)),
            Some(Value::Null) => return Err(self.wrong_type(Field::Confidence, "a number", &Value::Null)),
            Some(_) => self.optional_number(Field::Confidence)?.unwrap_or(f64::NAN),
        };
        let timeframe = self.required_str(Field::Timeframe)?;
        let model_version = self.required_str(Field::ModelVersion)?;
        let trace_id = match self.get(Field::TraceId) {
            None | Some(Value::Null) => None,
            Some(Value::Str(s)) => Some(s.as_ref()),
            Some(v) => return Err(self.wrong_type(Field::TraceId, "a string", v)),
        };
        let timestamp = self.optional_number(Field::Timestamp)?;
        if let Some(v @ (Value::Str(_) | Value::Num(_) | Value::Bool | Value::Array)) = self.get(Field::Metadata) {
            return Err(self.wrong_type(Field::Metadata, "an object", v));
        }
        Ok(SignalInput { symbol, side, confidence, timeframe, model_version, trace_id, timestamp })
    }

    /// The words for a validation failure `code` of `input`.
    pub(crate) fn explain(&self, code: ErrorCode, input: &SignalInput<'_>) -> FieldIssue {
        let (field, problem) = match code {
            ErrorCode::UnknownSymbol => (Field::Symbol, Problem::BadValue(Snippet::new(input.symbol))),
            ErrorCode::InvalidSide => (Field::Side, Problem::BadValue(Snippet::new(input.side))),
            ErrorCode::ConfidenceRange => (Field::Confidence, Problem::OutOfRange(input.confidence)),
            ErrorCode::UnknownTimeframe => (Field::Timeframe, Problem::BadValue(Snippet::new(input.timeframe))),
            ErrorCode::UnknownModel | ErrorCode::ModelRegistryFull => {
                (Field::ModelVersion, Problem::BadValue(Snippet::new(input.model_version)))
            }
            ErrorCode::InvalidTimestamp => (Field::Timestamp, Problem::OutOfRange(input.timestamp.unwrap_or(f64::NAN))),
            _ => (Field::TraceId, Problem::BadTraceId),
        };
        (code, problem, self.column(field))
    }

    /// Takes the value of `key` (or records why it is not taken).
    fn take<A: MapAccess<'a>>(&mut self, key: Key, map: &mut A) -> Result<(), A::Error> {
        let column = match key.addr.checked_sub(self.base) {
            Some(off) if key.addr != 0 => off as u32,
            _ => 0,
        };
        let Some(field) = key.field else {
            map.next_value::<IgnoredAny>()?;
            let problem = Problem::UnknownField(key.unknown);
            self.issue.get_or_insert((ErrorCode::UnknownField, problem, column));
            return Ok(());
        };
        if self.fields[field as usize].is_some() {
            map.next_value::<IgnoredAny>()?;
            let problem = Problem::DuplicateField(field.name());
            self.issue.get_or_insert((ErrorCode::DuplicateField, problem, column));
            return Ok(());
        }
        self.columns[field as usize] = column;
        self.fields[field as usize] = Some(map.next_value()?);
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Symbol,
    Side,
    Confidence,
    Timeframe,
    ModelVersion,
    TraceId,
    Timestamp,
    Metadata,
}

impl Field {
    const COUNT: usize = 8;
    const ALL: [Field; Field::COUNT] = [
        Field::Symbol,
        Field::Side,
        Field::Confidence,
        Field::Timeframe,
        Field::ModelVersion,
        Field::TraceId,
        Field::Timestamp,
        Field::Metadata,
    ];

    fn name(self) -> &'static str {
        match self {
            Field::Symbol => "symbol",
            Field::Side => "side",
            Field::Confidence => "confidence",
            Field::Timeframe => "timeframe",
            Field::ModelVersion => "model_version",
            Field::TraceId => "trace_id",
            Field::Timestamp => "timestamp",
            Field::Metadata => "metadata",
        }
    }
}

/// A key of the document: its field (`None` = unknown, then its name), and its address in
/// the text when borrowed from it (0 for an escaped key).
struct Key {
    field: Option<Field>,
    addr: usize,
    unknown: Snippet,
}

impl Key {
    fn of(s: &str, addr: usize) -> Key {
        let field = Field::ALL.into_iter().find(|f| f.name() == s);
        let unknown = if field.is_none() { Snippet::new(s) } else { Snippet::default() };
        Key { field, addr, unknown }
    }
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key, E> {
                Ok(Key::of(s, s.as_ptr() as usize))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key, E> {
                Ok(Key::of(s, 0))
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

impl<'de> de::Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value<'de>, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Value<'de>, E> {
        Ok(Value::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value<'de>, E> {
        // Only strings with escapes land here (serde_json unescapes into scratch space).
        Ok(Value::Str(Cow::Owned(s.to_owned())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value<'de>, E> {
        Ok(Value::Num(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value<'de>, E> {
        Ok(Value::Num(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value<'de>, E> {
        Ok(Value::Num(v as f64))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Value<'de>, E> {
        Ok(Value::Bool)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Value::Object)
    }
}

/// Parses the document into a [`RawSignal`] owned by the caller, so what was read before a
/// syntax error (the trace id) survives it.
pub(crate) struct RawSignalSeed<'r, 'de>(pub(crate) &'r mut RawSignal<'de>);

impl<'de> DeserializeSeed<'de> for RawSignalSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RawSignalSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key>()? {
            self.0.take(key, &mut map)?;
        }
        Ok(())
    }
}
