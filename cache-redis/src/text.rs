//! Glob escaping and password redaction.

/// `*`, `?`, `[`, `]` and `\` escaped for a `MATCH` pattern.
pub(crate) fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `(scheme://, user, password)` of a URL with a `user[:password]@` part.
fn userinfo(url: &str) -> Option<(&str, &str, Option<&str>)> {
    let scheme_end = url.find("://")? + 3;
    let at = url.rfind('@').filter(|&at| at >= scheme_end)?;
    let info = url.get(scheme_end..at)?;
    let (user, password) = match info.split_once(':') {
        Some((user, password)) => (user, Some(password).filter(|p| !p.is_empty())),
        None => (info, None),
    };
    Some((url.get(..scheme_end)?, user, password))
}

/// The URL's password, if it has one.
pub(crate) fn password_of(url: &str) -> Option<String> {
    userinfo(url).and_then(|(_, _, password)| password.map(str::to_owned))
}

/// The URL with its password replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    let (Some((head, user, Some(_))), Some(at)) = (userinfo(url), url.rfind('@')) else {
        return url.to_owned();
    };
    format!("{head}{user}:***{}", &url[at..])
}

/// `message` with every one of `secrets` replaced by `***`.
pub(crate) fn redact(message: &str, secrets: &[String]) -> String {
    let mut message = message.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        message = message.replace(secret.as_str(), "***");
    }
    message
}
