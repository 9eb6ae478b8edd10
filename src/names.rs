//! One spelling for every option: `name()` and [`FromStr`](std::str::FromStr) for the option
//! enums, so that the examples' flags, a caller's configuration files and the library agree.

/// Implements `name()` and [`FromStr`](std::str::FromStr) for an option enum whose variants
/// carry no data:
/// `option_names!(Type, "parameter", [Variant => "name" | "alias", …])`. `from_str` accepts
/// each name and its aliases as [`option_key`] normalizes them (any case, `_` for `-`) and
/// answers anything else with [`Error::InvalidParameter`](crate::Error::InvalidParameter) named
/// `parameter` that lists the names; `name()` gives the first spelling, so `name().parse()` is
/// the identity.
/// The spelling option names are matched in: ASCII lower case, `_` read as `-`, so that
/// `"per_mode"`, `"Per-Mode"` and `"per-mode"` name the same option (configuration files often
/// use snake case). Nothing else is forgiven: surrounding blanks are an error.
pub(crate) fn option_key(s: &str) -> String {
    s.to_ascii_lowercase().replace('_', "-")
}

/// The error for a name no option of `param` has: [`Error::InvalidParameter`](crate::Error)
/// named `param`, quoting `given` as written (escaped) and listing the accepted `names`.
pub(crate) fn unknown_option(param: &'static str, given: &str, names: &[&str]) -> crate::Error {
    crate::Error::param(
        param,
        format!(
            "unknown {param} `{}`; expected one of: {}",
            given.escape_debug(),
            names.join(", ")
        ),
    )
}

macro_rules! option_names {
    ($ty:ident, $param:literal, [$($variant:ident => $name:literal $(| $alias:literal)*),+ $(,)?]) => {
        impl $ty {
            #[doc = concat!(
                "The option's name, as [`FromStr`](std::str::FromStr) parses it:",
                $(" `\"", $name, "\"` for [`", stringify!($variant), "`](Self::", stringify!($variant), "),"),+,
                " one per variant."
            )]
            pub fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }
        }

        #[doc = concat!(
            "Parses the names [`", stringify!($ty), "::name`] gives",
            $($(" (and `\"", $alias, "\"`)",)*)+
            ", in any case and with `_` for `-`; anything else is [`Error::InvalidParameter`](crate::Error::InvalidParameter) named `",
            $param, "`."
        )]
        impl std::str::FromStr for $ty {
            type Err = crate::Error;
            fn from_str(s: &str) -> crate::Result<Self> {
                match crate::names::option_key(s).as_str() {
                    $($name $(| $alias)* => Ok($ty::$variant),)+
                    _ => Err(crate::names::unknown_option($param, s, &[$($name),+])),
                }
            }
        }
    };
}
