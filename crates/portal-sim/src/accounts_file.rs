//! Loading the account list from a JSON or TOML file.

use std::path::Path;

use serde::Deserialize;

use crate::config::AccountSpec;
use crate::error::SimError;

/// JSON may be a bare list or `{"accounts": [...]}`; TOML needs the table
/// form (`[[accounts]]`) since a TOML document cannot be a bare list.
#[derive(Deserialize)]
#[serde(untagged)]
enum AccountsDoc {
    List(Vec<AccountSpec>),
    Table { accounts: Vec<AccountSpec> },
}

impl AccountsDoc {
    fn into_accounts(self) -> Vec<AccountSpec> {
        match self {
            Self::List(accounts) | Self::Table { accounts } => accounts,
        }
    }
}

/// Reads accounts from `path`: TOML when the name ends in `.toml`, JSON otherwise.
pub fn load_accounts(path: &Path) -> Result<Vec<AccountSpec>, SimError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SimError::AccountsFileRead {
        path: shown.clone(),
        source,
    })?;
    let is_toml = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("toml"));
    parse_accounts(&text, is_toml).map_err(|reason| SimError::AccountsFileParse {
        path: shown,
        reason,
    })
}

fn parse_accounts(text: &str, is_toml: bool) -> Result<Vec<AccountSpec>, String> {
    let doc: AccountsDoc = if is_toml {
        toml::from_str(text).map_err(|e| e.to_string())?
    } else {
        serde_json::from_str(text).map_err(|e| e.to_string())?
    };
    Ok(doc.into_accounts())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_list_and_table_and_toml() {
        let list = r#"[{"email":"a@x.co","password":"p","orders":3}]"#;
        let table = r#"{"accounts":[{"email":"a@x.co","password":"p","orders":3}]}"#;
        let toml_doc = "[[accounts]]\nemail = \"a@x.co\"\npassword = \"p\"\norders = 3\n";
        let expected = vec![AccountSpec {
            email: "a@x.co".into(),
            password: "p".into(),
            orders: Some(3),
        }];
        assert_eq!(parse_accounts(list, false).unwrap(), expected);
        assert_eq!(parse_accounts(table, false).unwrap(), expected);
        assert_eq!(parse_accounts(toml_doc, true).unwrap(), expected);
    }

    #[test]
    fn rejects_unknown_fields() {
        assert!(parse_accounts(r#"[{"email":"a","password":"p","pwd":1}]"#, false).is_err());
    }
}
