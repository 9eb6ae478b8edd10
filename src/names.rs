//! One spelling for every option: `name()` and [`FromStr`](std::str::FromStr) for the option
//! enums, so that the examples' flags, a caller's configuration files and the library agree.

/// Implements `name()` and [`FromStr`](std::str::FromStr) for an option enum whose variants
/// carry no data:
/// `option_names!(Type, "parameter", [Variant => "name" | "alias", …])`. `from_str` accepts
/// each name and its aliases (exact, lower case) and answers anything else with
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) named `parameter` that lists
/// the names; `name()` gives the first spelling, so `name().parse()` is the identity.
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
            "; anything else is [`Error::InvalidParameter`](crate::Error::InvalidParameter) named `",
            $param, "`."
        )]
        impl std::str::FromStr for $ty {
            type Err = crate::Error;
            fn from_str(s: &str) -> crate::Result<Self> {
                match s {
                    $($name $(| $alias)* => Ok($ty::$variant),)+
                    other => Err(crate::Error::param(
                        $param,
                        format!(
                            "unknown {} `{}`; expected one of: {}",
                            $param,
                            other.escape_debug(),
                            [$($name),+].join(", ")
                        ),
                    )),
                }
            }
        }
    };
}
