//! Writing words for a POSIX shell: the commands ox prints to paste (`ox show`, the
//! dashboard's reproduce line, hints) and the ones it writes into scripts (sbatch).

/// `word` as one shell word: unchanged when it holds only characters no shell treats
/// specially, else in single quotes (a `'` inside becomes `'\''`).
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// `words` quoted and joined by spaces: a command line a shell reads back word for word.
pub fn join<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_quote_only_when_needed() {
        assert_eq!(quote("train.py"), "train.py");
        assert_eq!(quote("--lr=3e-4"), "--lr=3e-4");
        assert_eq!(quote("1e-05"), "1e-05");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(
            join(&["python", "a b.py", "--x=1"]),
            "python 'a b.py' --x=1"
        );
    }
}
