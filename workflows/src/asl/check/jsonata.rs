//! A syntax-only JSONata parser: it accepts what the JSONata reference parser accepts and builds
//! nothing, so the checker can refuse a malformed `{% … %}` expression when the definition is
//! created rather than when the state runs.
//!
//! Tokens and binding powers follow the JSONata reference implementation (a Pratt parser).

/// Checks the text between `{%` and `%}`.
pub(crate) fn check_expression(text: &str) -> Result<(), String> {
    let mut p = Parser {
        lexer: Lexer {
            s: text.as_bytes(),
            text,
            i: 0,
        },
        token: Token::End,
        depth: 0,
    };
    p.advance(true)?;
    p.expression(0)?;
    if p.token != Token::End {
        return Err(format!("unexpected {}", p.token.describe()));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    End,
    /// An operator or punctuation, e.g. `.`, `:=`, `and`.
    Op(&'static str),
    /// A string, number, `true`, `false` or `null`.
    Literal,
    /// A number (kept apart: it cannot be a path step).
    Number,
    /// A field name (possibly in backticks).
    Name(String),
    /// `$name`.
    Variable,
    /// `/regex/flags`.
    Regex,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::End => "end of expression".to_owned(),
            Token::Op(op) => format!("\"{op}\""),
            Token::Literal | Token::Number => "literal".to_owned(),
            Token::Name(n) => format!("name \"{n}\""),
            Token::Variable => "variable".to_owned(),
            Token::Regex => "regular expression".to_owned(),
        }
    }
}

const MULTI: &[&str] = &["..", ":=", "!=", ">=", "<=", "**", "~>", "?:", "??"];
const SINGLE: &[u8] = b".[]{}(),@#;:?+-*/%|=<>^&!~";

struct Lexer<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
}

impl Lexer<'_> {
    fn next(&mut self, prefix: bool) -> Result<Token, String> {
        loop {
            while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
                self.i += 1;
            }
            if self.text[self.i..].starts_with("/*") {
                let Some(end) = self.text[self.i + 2..].find("*/") else {
                    return Err("unclosed comment".to_owned());
                };
                self.i += end + 4;
                continue;
            }
            break;
        }
        let Some(&c) = self.s.get(self.i) else {
            return Ok(Token::End);
        };
        if prefix && c == b'/' {
            self.i += 1;
            let start = self.i;
            loop {
                match self.s.get(self.i) {
                    None => return Err("unclosed regular expression".to_owned()),
                    Some(b'\\') => self.i += 2,
                    Some(b'/') => break,
                    Some(_) => self.i += 1,
                }
            }
            if self.i == start {
                return Err("empty regular expression".to_owned());
            }
            self.i += 1;
            while self.s.get(self.i).is_some_and(u8::is_ascii_alphabetic) {
                self.i += 1;
            }
            return Ok(Token::Regex);
        }
        for op in MULTI {
            if self.text[self.i..].starts_with(op) {
                self.i += op.len();
                return Ok(Token::Op(op));
            }
        }
        if let Some(pos) = SINGLE.iter().position(|x| *x == c) {
            self.i += 1;
            let op = &".[]{}(),@#;:?+-*/%|=<>^&!~"[pos..=pos];
            return Ok(Token::Op(op));
        }
        if c == b'"' || c == b'\'' {
            self.i += 1;
            loop {
                match self.s.get(self.i) {
                    None => return Err("unclosed string".to_owned()),
                    Some(b'\\') => self.i += 2,
                    Some(x) if *x == c => {
                        self.i += 1;
                        return Ok(Token::Literal);
                    }
                    Some(_) => self.i += 1,
                }
            }
        }
        if c.is_ascii_digit() {
            // -?(0|[1-9][0-9]*)(\.[0-9]+)?([Ee][-+]?[0-9]+)? (the sign is an operator here)
            if c == b'0' {
                self.i += 1;
            } else {
                self.eat_digits();
            }
            if self.s.get(self.i) == Some(&b'.')
                && self.s.get(self.i + 1).is_some_and(u8::is_ascii_digit)
            {
                self.i += 1;
                self.eat_digits();
            }
            if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
                let save = self.i;
                self.i += 1;
                if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                    self.i += 1;
                }
                if self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                    self.eat_digits();
                } else {
                    self.i = save;
                }
            }
            return Ok(Token::Number);
        }
        if c == b'`' {
            let Some(end) = self.text[self.i + 1..].find('`') else {
                return Err("unclosed quoted name".to_owned());
            };
            let name = self.text[self.i + 1..self.i + 1 + end].to_owned();
            self.i += end + 2;
            return Ok(Token::Name(name));
        }
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|x| !x.is_ascii_whitespace() && !SINGLE.contains(x))
        {
            self.i += 1;
        }
        let word = &self.text[start..self.i];
        Ok(if word.starts_with('$') {
            Token::Variable
        } else {
            match word {
                "true" | "false" | "null" => Token::Literal,
                "and" => Token::Op("and"),
                "or" => Token::Op("or"),
                "in" => Token::Op("in"),
                _ => Token::Name(word.to_owned()),
            }
        })
    }

    fn eat_digits(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
    }
}

/// How strongly an infix operator binds (0: it does not continue an expression).
fn binding_power(token: &Token) -> u8 {
    match token {
        Token::Op(op) => match *op {
            "." => 75,
            "[" | "(" | "@" | "#" => 80,
            "{" => 70,
            "*" | "/" | "%" | "**" => 60,
            "+" | "-" | "&" => 50,
            "=" | "<" | ">" | "!=" | "<=" | ">=" | "~>" | "?:" | "??" | "in" | "^" => 40,
            "and" => 30,
            "or" => 25,
            "?" => 20,
            ":=" => 10,
            _ => 0,
        },
        _ => 0,
    }
}

/// Deep nesting is refused rather than risking the stack.
const MAX_DEPTH: usize = 100;

struct Parser<'a> {
    lexer: Lexer<'a>,
    token: Token,
    depth: usize,
}

impl Parser<'_> {
    /// Reads the next token; `prefix` tells the lexer that an operand is expected (so `/` starts
    /// a regular expression).
    fn advance(&mut self, prefix: bool) -> Result<(), String> {
        self.token = self.lexer.next(prefix)?;
        Ok(())
    }

    fn expect(&mut self, op: &'static str, prefix: bool) -> Result<(), String> {
        if self.token != Token::Op(op) {
            return Err(format!(
                "expected \"{op}\", found {}",
                self.token.describe()
            ));
        }
        self.advance(prefix)
    }

    fn expression(&mut self, rbp: u8) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("expression nested too deeply".to_owned());
        }
        let mut left = self.token.clone();
        // After an opening operator (`(`, `[`, `{`, `-`, `|`) an operand follows, so `/` starts
        // a regular expression; after an operand it divides.
        let opener = matches!(&left, Token::Op(op) if !matches!(*op, "*" | "**" | "%" | "and" | "or" | "in"));
        self.advance(opener)?;
        self.nud(&left)?;
        while rbp < binding_power(&self.token) {
            let op = self.token.clone();
            self.advance(true)?;
            self.led(&op, &left)?;
            left = op;
        }
        self.depth -= 1;
        Ok(())
    }

    /// Parses the rest of an operand that began with `token` (already consumed).
    fn nud(&mut self, token: &Token) -> Result<(), String> {
        match token {
            Token::End => Err("unexpected end of expression".to_owned()),
            // A name followed by `(` is a call or a lambda: the `(` infix rule handles it.
            Token::Literal | Token::Number | Token::Name(_) | Token::Variable | Token::Regex => {
                Ok(())
            }
            Token::Op(op) => match *op {
                "and" | "or" | "in" => Ok(()),
                "*" | "**" | "%" => Ok(()),
                "-" => self.expression(70),
                "(" => self.block(),
                "[" => self.array(),
                "{" => self.object(),
                "|" => {
                    self.expression(0)?;
                    self.expect("|", true)?;
                    self.expression(0)?;
                    if self.token == Token::Op(",") {
                        self.advance(true)?;
                        self.expression(0)?;
                    }
                    self.expect("|", false)
                }
                other => Err(format!("unexpected \"{other}\"")),
            },
        }
    }

    /// Parses what follows the infix operator `op` (already consumed); `left` began the left
    /// operand.
    fn led(&mut self, op: &Token, left: &Token) -> Result<(), String> {
        let Token::Op(op) = op else {
            return Err(format!("unexpected {}", op.describe()));
        };
        match *op {
            "." => {
                if matches!(self.token, Token::Number) {
                    return Err("a number cannot be a step of a path".to_owned());
                }
                self.expression(75)
            }
            "(" => {
                let lambda = matches!(left, Token::Name(n) if n == "function" || n == "λ");
                if self.token != Token::Op(")") {
                    loop {
                        if self.token == Token::Op("?") {
                            self.advance(false)?;
                        } else {
                            if lambda && self.token != Token::Variable {
                                return Err("a function parameter must be a variable".to_owned());
                            }
                            self.expression(0)?;
                        }
                        if self.token != Token::Op(",") {
                            break;
                        }
                        self.advance(true)?;
                    }
                }
                self.expect(")", false)?;
                if lambda {
                    if self.token == Token::Op("<") {
                        self.signature()?;
                    }
                    self.expect("{", true)?;
                    self.expression(0)?;
                    self.expect("}", false)?;
                }
                Ok(())
            }
            "[" => {
                if self.token == Token::Op("]") {
                    return self.advance(false);
                }
                self.expression(0)?;
                self.expect("]", false)
            }
            "{" => self.object(),
            "@" | "#" => {
                if self.token != Token::Variable {
                    return Err(format!("\"{op}\" must be followed by a variable"));
                }
                self.advance(false)
            }
            "^" => {
                self.expect("(", true)?;
                loop {
                    if self.token == Token::Op("<") || self.token == Token::Op(">") {
                        self.advance(true)?;
                    }
                    self.expression(0)?;
                    if self.token != Token::Op(",") {
                        break;
                    }
                    self.advance(true)?;
                }
                self.expect(")", false)
            }
            "?" => {
                self.expression(0)?;
                if self.token == Token::Op(":") {
                    self.advance(true)?;
                    self.expression(0)?;
                }
                Ok(())
            }
            ":=" => {
                if *left != Token::Variable {
                    return Err("the left side of \":=\" must be a variable".to_owned());
                }
                self.expression(9)
            }
            other => self.expression(binding_power(&Token::Op(other))),
        }
    }

    fn block(&mut self) -> Result<(), String> {
        while self.token != Token::Op(")") {
            self.expression(0)?;
            if self.token != Token::Op(";") {
                break;
            }
            self.advance(true)?;
        }
        self.expect(")", false)
    }

    fn array(&mut self) -> Result<(), String> {
        if self.token != Token::Op("]") {
            loop {
                self.expression(0)?;
                if self.token == Token::Op("..") {
                    self.advance(true)?;
                    self.expression(0)?;
                }
                if self.token != Token::Op(",") {
                    break;
                }
                self.advance(true)?;
            }
        }
        self.expect("]", false)
    }

    fn object(&mut self) -> Result<(), String> {
        if self.token != Token::Op("}") {
            loop {
                self.expression(0)?;
                self.expect(":", true)?;
                self.expression(0)?;
                if self.token != Token::Op(",") {
                    break;
                }
                self.advance(true)?;
            }
        }
        self.expect("}", false)
    }

    /// Skips a function signature `<…>` (its inner syntax is not checked).
    fn signature(&mut self) -> Result<(), String> {
        let rest = &self.lexer.text[self.lexer.i..];
        let mut depth = 1usize;
        for (n, c) in rest.char_indices() {
            match c {
                '<' => depth += 1,
                '>' => {
                    depth -= 1;
                    if depth == 0 {
                        self.lexer.i += n + 1;
                        return self.advance(false);
                    }
                }
                _ => {}
            }
        }
        Err("unclosed function signature".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::check_expression;

    #[test]
    fn accepts_jsonata() {
        for ok in [
            "$states.input.x",
            "10 + 2 * 3",
            "$sum($states.input.items.numbers)",
            "$exists($states.input.moreData) ? $states.input.moreData : {}",
            "$join($each($a, function($v) { $v }), ', ')",
            "($e := $x.email; $n := $x.first & ' ' & $x.last; $x.items[category = 'home']{'c': $n, category: {type: year}})",
            "$match($s, /^[a-z]+\\.x{2,}$/) and $not(null in [1, 2])",
            "[1..5]",
            "$states.input.Items^(>price, name)",
            "$x ~> $map(function($v, $i) { $v * $i })",
            "items#$i[$i > 1]",
            "$f(?, 2)",
            "789.0123456789012",
            "-1",
            "`field name`.x",
            "$states.input.a ?: 'default'",
            "/* comment */ $x",
            "function($x)<n:n>{ $x }",
            "[/a/, /b\\/c/i]",
            "$x / 2",
        ] {
            assert_eq!(check_expression(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn refuses_deep_nesting_without_overflowing() {
        for deep in [
            format!("{}1{}", "(".repeat(5000), ")".repeat(5000)),
            "-".repeat(10_000) + "1",
            "[".repeat(5000),
            format!("{}1", "$f(".repeat(5000)),
        ] {
            assert!(check_expression(&deep).is_err());
        }
        let fine = format!("{}1{}", "(".repeat(50), ")".repeat(50));
        assert_eq!(check_expression(&fine), Ok(()));
    }

    #[test]
    fn refuses_malformed_jsonata() {
        for bad in [
            "",
            "420.",
            "10 + * 2",
            "$sum($states.input.items.numbers",
            "$.store.book[?(@.price < 10)].title",
            "'unclosed",
            "1 2",
            "{ 'a' 1 }",
            "a :=  1",
            "(((",
        ] {
            assert!(check_expression(bad).is_err(), "{bad}");
        }
    }
}
