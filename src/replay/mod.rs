//! Playback of a recorded session: the journal and the files it pins, checked, turned into
//! a timeline of moments (`timeline`, pure), walked by a player with speed, pause, step and
//! jump to the next decision (`player`, pure). Reading and checking the files is `load`;
//! the screen that shows each moment is `tui::replay`.

pub mod load;
pub mod player;
pub mod timeline;

pub use load::{Recording, Records, load};
pub use player::Player;
pub use timeline::{Change, Moment, Timeline};
