//! A minimal protobuf wire-format reader: enough to walk the few fields of TensorBoard's
//! `Event`/`Summary` and W&B's `Record` messages we need, without generated code.
//!
//! Every read is bounds-checked and returns `None` on malformed input, so arbitrary bytes
//! never panic.

/// A field's value as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WireValue<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl<'a> WireValue<'a> {
    /// The value as bytes (length-delimited fields: strings, messages, packed arrays).
    pub fn bytes(self) -> Option<&'a [u8]> {
        match self {
            WireValue::Bytes(b) => Some(b),
            _ => None,
        }
    }
    /// The value as a varint.
    pub fn varint(self) -> Option<u64> {
        match self {
            WireValue::Varint(v) => Some(v),
            _ => None,
        }
    }
    /// The value as UTF-8 text (lossy).
    pub fn string(self) -> Option<String> {
        self.bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

/// Iterates over the `(field number, value)` pairs of one message. Stops (and sets
/// `malformed`) at the first field that cannot be decoded.
pub struct Fields<'a> {
    data: &'a [u8],
    pos: usize,
    pub malformed: bool,
}

impl<'a> Fields<'a> {
    /// Fields of the message encoded in `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Fields {
            data,
            pos: 0,
            malformed: false,
        }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }
}

/// Reads a base-128 varint from the start of `data`, returning it and its length.
pub fn read_varint(data: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (i, &b) in data.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

impl<'a> Iterator for Fields<'a> {
    type Item = (u32, WireValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.data.len() || self.malformed {
            return None;
        }
        let item = (|| {
            let (tag, n) = read_varint(self.data.get(self.pos..)?)?;
            self.pos += n;
            let field = u32::try_from(tag >> 3).ok()?;
            let value = match tag & 7 {
                0 => {
                    let (v, n) = read_varint(self.data.get(self.pos..)?)?;
                    self.pos += n;
                    WireValue::Varint(v)
                }
                1 => WireValue::Fixed64(u64::from_le_bytes(self.take(8)?.try_into().ok()?)),
                2 => {
                    let (len, n) = read_varint(self.data.get(self.pos..)?)?;
                    self.pos += n;
                    WireValue::Bytes(self.take(usize::try_from(len).ok()?)?)
                }
                5 => WireValue::Fixed32(u32::from_le_bytes(self.take(4)?.try_into().ok()?)),
                _ => return None,
            };
            Some((field, value))
        })();
        if item.is_none() {
            self.malformed = true;
        }
        item
    }
}

/// The first value of field `number` in a message, if any.
pub fn field(data: &[u8], number: u32) -> Option<WireValue<'_>> {
    Fields::new(data)
        .find(|(f, _)| *f == number)
        .map(|(_, v)| v)
}

/// Reads a `repeated float` field's first value, packed (bytes) or not (fixed32).
pub fn first_float(value: WireValue<'_>) -> Option<f64> {
    match value {
        WireValue::Fixed32(bits) => Some(f64::from(f32::from_bits(bits))),
        WireValue::Bytes(b) => Some(f64::from(f32::from_le_bytes(b.get(..4)?.try_into().ok()?))),
        _ => None,
    }
}

/// Reads a `repeated double` field's first value, packed (bytes) or not (fixed64).
pub fn first_double(value: WireValue<'_>) -> Option<f64> {
    match value {
        WireValue::Fixed64(bits) => Some(f64::from_bits(bits)),
        WireValue::Bytes(b) => Some(f64::from_le_bytes(b.get(..8)?.try_into().ok()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_wire_type() {
        // field 1 varint 150; field 2 bytes "hi"; field 3 fixed32 1.5f; field 4 fixed64 2.0
        let mut msg = vec![0x08, 0x96, 0x01, 0x12, 2, b'h', b'i', 0x1d];
        msg.extend_from_slice(&1.5f32.to_le_bytes());
        msg.push(0x21);
        msg.extend_from_slice(&2.0f64.to_le_bytes());
        let fields: Vec<_> = Fields::new(&msg).collect();
        assert_eq!(fields[0], (1, WireValue::Varint(150)));
        assert_eq!(fields[1], (2, WireValue::Bytes(b"hi")));
        assert_eq!(first_float(fields[2].1), Some(1.5));
        assert_eq!(first_double(fields[3].1), Some(2.0));
        assert_eq!(
            field(&msg, 2).and_then(WireValue::string).as_deref(),
            Some("hi")
        );
    }

    #[test]
    fn truncated_messages_stop_without_panicking() {
        let msg = [0x12, 10, b'a'];
        let mut f = Fields::new(&msg);
        assert!(f.next().is_none());
        assert!(f.malformed);
        assert!(read_varint(&[0xff; 11]).is_none());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            for (_, v) in Fields::new(&data) {
                let _ = first_float(v);
                let _ = first_double(v);
                if let Some(b) = v.bytes() {
                    let _ = Fields::new(b).count();
                }
            }
        }
    }
}
