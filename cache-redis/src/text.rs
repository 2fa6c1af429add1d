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

/// The password of a `redis+unix:///path?pass=...` URL's query, if any.
fn query_password(url: &str) -> Option<&str> {
    let (_, query) = url.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("pass="))
        .filter(|password| !password.is_empty())
}

/// The URL's password, if it has one (`user:password@`, or a Unix socket
/// URL's `pass=` query parameter).
pub(crate) fn password_of(url: &str) -> Option<String> {
    userinfo(url)
        .and_then(|(_, _, password)| password)
        .or_else(|| query_password(url))
        .map(str::to_owned)
}

/// The URL with its password replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    let url = match (userinfo(url), url.rfind('@')) {
        (Some((head, user, Some(_))), Some(at)) => format!("{head}{user}:***{}", &url[at..]),
        _ => url.to_owned(),
    };
    match url.split_once('?') {
        Some((base, query)) if query_password(&url).is_some() => {
            let query: Vec<&str> = query
                .split('&')
                .map(|pair| match pair.strip_prefix("pass=") {
                    Some(password) if !password.is_empty() => "pass=***",
                    _ => pair,
                })
                .collect();
            format!("{base}?{}", query.join("&"))
        }
        _ => url,
    }
}

/// `message` with every one of `secrets` replaced by `***`.
pub(crate) fn redact(message: &str, secrets: &[String]) -> String {
    let mut message = message.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        message = message.replace(secret.as_str(), "***");
    }
    message
}
