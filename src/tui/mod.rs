//! The recovery screen: one owner of the state (`app`), effects carried out by `core`,
//! a terminal runtime around it, and pure rendering in `ui`.

/// Declares a fieldless enum together with its `ALL` table (every variant, in declaration
/// order), so that a new variant cannot be left out of it. Key files, help and the status
/// bar look actions and layers up through `ALL`, and the keymap and theme index arrays
/// sized by `ALL` with `variant as usize`: a variant missing from a hand-written table
/// compiled, then could not be bound or panicked at run time.
macro_rules! enum_with_all {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),*
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [$name; [$($name::$variant),*].len()] = [$($name::$variant),*];
        }
    };
}

pub mod action;
pub mod app;
pub mod cast;
pub mod choice;
pub mod core;
pub mod exec_view;
pub mod keymap;
pub mod launch;
pub mod msg;
pub mod replay;
pub mod runtime;
pub mod scroll;
pub mod table;
pub mod term;
pub mod theme;
pub mod ui;

#[cfg(test)]
mod tests {
    use super::keymap::Layer;
    use super::theme::Role;

    #[test]
    fn all_tables_index_like_the_arrays_built_from_them() {
        assert!(Layer::ALL.iter().enumerate().all(|(i, l)| *l as usize == i));
        assert!(Role::ALL.iter().enumerate().all(|(i, r)| *r as usize == i));
    }
}
