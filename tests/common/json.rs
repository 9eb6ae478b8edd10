//! A strict parser of the JSON the examples print with `--json` (objects, strings, numbers,
//! booleans, null; no arrays, no whitespace): it rejects what JSON rejects and Rust's formatting
//! could produce (`NaN`, `inf`, a leading `+`, a bare `.5`), and numbers keep their text, so a
//! test can check how a figure was printed.

/// Parses one JSON value, the whole of `text`.
pub fn parse(text: &str) -> Result<J, String> {
    Parser::parse(text)
}

/// A JSON value. Numbers keep their text, to check how they were printed.
#[derive(Debug, Clone, PartialEq)]
pub enum J {
    Null,
    Bool(bool),
    Num(f64, String),
    Str(String),
    Obj(Vec<(String, J)>),
}

impl J {
    /// A number's value; `None` for null. Panics on any other kind of value.
    pub fn num(&self) -> Option<f64> {
        match self {
            J::Num(v, _) => Some(*v),
            J::Null => None,
            other => panic!("not a number or null: {other:?}"),
        }
    }

    /// An object's field `key`; `None` when it has none. Panics when `self` is not an object.
    pub fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            other => panic!("not an object: {other:?}"),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn parse(text: &str) -> Result<J, String> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        if p.i != p.s.len() {
            return Err(format!("trailing text at byte {}", p.i));
        }
        Ok(v)
    }
    fn eat(&mut self, lit: &str) -> bool {
        if self.s[self.i..].starts_with(lit.as_bytes()) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }
    fn value(&mut self) -> Result<J, String> {
        match self.s.get(self.i) {
            Some(b'{') => self.object(),
            Some(b'"') => self.string().map(J::Str),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ if self.eat("null") => Ok(J::Null),
            _ if self.eat("true") => Ok(J::Bool(true)),
            _ if self.eat("false") => Ok(J::Bool(false)),
            _ => Err(format!("no JSON value at byte {}", self.i)),
        }
    }
    fn object(&mut self) -> Result<J, String> {
        self.i += 1;
        let mut m: Vec<(String, J)> = Vec::new();
        if self.eat("}") {
            return Ok(J::Obj(m));
        }
        loop {
            let k = self.string()?;
            if !self.eat(":") {
                return Err(format!("no ':' at byte {}", self.i));
            }
            let v = self.value()?;
            if m.iter().any(|(key, _)| *key == k) {
                return Err(format!("duplicate key {k:?}"));
            }
            m.push((k, v));
            if self.eat(",") {
                continue;
            }
            if self.eat("}") {
                return Ok(J::Obj(m));
            }
            return Err(format!("no ',' or '}}' at byte {}", self.i));
        }
    }
    fn string(&mut self) -> Result<String, String> {
        if !self.eat("\"") {
            return Err(format!("no string at byte {}", self.i));
        }
        let mut out = Vec::new();
        while let Some(&c) = self.s.get(self.i) {
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).map_err(|e| e.to_string()),
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or("cut escape")?;
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = self
                                .s
                                .get(self.i..self.i + 4)
                                .and_then(|h| std::str::from_utf8(h).ok())
                                .ok_or("cut \\u escape")?;
                            let c = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                            self.i += 4;
                            let c = char::from_u32(c).ok_or("bad \\u escape")?;
                            let mut buf = [0; 4];
                            out.extend(c.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return Err(format!("bad escape at byte {}", self.i)),
                    }
                }
                c if c < 0x20 => return Err("control character in a string".into()),
                c => out.push(c),
            }
        }
        Err("unterminated string".into())
    }
    fn number(&mut self) -> Result<J, String> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.s.get(p.i).is_some_and(u8::is_ascii_digit) {
                p.i += 1;
            }
            p.i > s
        };
        self.eat("-");
        if self.eat("0") {
        } else if !digits(self) {
            return Err(format!("bad number at byte {start}"));
        }
        if self.eat(".") && !digits(self) {
            return Err(format!("bad fraction at byte {start}"));
        }
        if self.eat("e") || self.eat("E") {
            if !self.eat("-") {
                self.eat("+");
            }
            if !digits(self) {
                return Err(format!("bad exponent at byte {start}"));
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).unwrap();
        let v: f64 = text.parse().map_err(|e| format!("{text}: {e}"))?;
        Ok(J::Num(v, text.to_string()))
    }
}
