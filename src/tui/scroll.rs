//! Each view's own vertical position, and what the last frame measured of it.
//!
//! The app does not know how many lines a wrapped panel takes or how many fit: the frame
//! does. So every scrollable view keeps a [`Scroll`], the renderer reports each view's
//! [`Viewport`] in [`Measures`], and [`App::measured`](super::app::App::measured) hands each
//! view its own. Moving clamps to the last measure; drawing clamps to the current one, so
//! content that grew or shrank since is still drawn in range.

/// How many lines a view has and how many of them fit on screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Viewport {
    pub lines: usize,
    pub height: usize,
}

impl Viewport {
    /// The largest first line that still fills the view.
    pub fn max_offset(self) -> usize {
        self.lines.saturating_sub(self.height)
    }
}

/// A movement asked for by a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motion {
    /// Lines down (positive) or up (negative).
    By(isize),
    /// Pages down or up.
    Pages(isize),
    Top,
    Bottom,
}

/// A view's position over its lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scroll {
    /// First line shown, from the top.
    offset: usize,
    /// Showing the end, and staying there as lines arrive (a journal following its tail).
    at_end: bool,
    /// What the last frame drew.
    measured: Viewport,
}

impl Scroll {
    /// A view that starts at its end and follows it, like a journal.
    pub fn following() -> Scroll {
        Scroll {
            at_end: true,
            ..Scroll::default()
        }
    }

    /// The first line to draw when the view holds `viewport.lines` lines.
    pub fn first_line(&self, viewport: Viewport) -> usize {
        let max = viewport.max_offset();
        if self.at_end { max } else { self.offset.min(max) }
    }

    /// Whether the view shows its end and follows it.
    pub fn is_at_end(&self) -> bool {
        self.at_end
    }

    pub fn measure(&mut self, viewport: Viewport) {
        self.measured = viewport;
    }

    /// Rows in one page, as last measured.
    pub fn page(&self) -> usize {
        self.measured.height.max(1)
    }

    pub fn apply(&mut self, motion: Motion) {
        let max = self.measured.max_offset();
        let from = self.first_line(self.measured);
        self.offset = match motion {
            Motion::By(n) => from.saturating_add_signed(n).min(max),
            Motion::Pages(n) => from
                .saturating_add_signed(n.saturating_mul(self.page() as isize))
                .min(max),
            Motion::Top => 0,
            Motion::Bottom => max,
        };
        // Reaching the end (by any key) follows it again; leaving it stops following.
        self.at_end = motion == Motion::Bottom || self.offset >= max;
    }
}

/// The viewports of the views one frame drew (`None`: not on screen).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measures {
    /// Data rows of the aligned view that fit.
    pub table: Option<usize>,
    pub strip: Option<Viewport>,
    pub session: Option<Viewport>,
    pub plan: Option<Viewport>,
    pub exec_journal: Option<Viewport>,
    pub help: Option<Viewport>,
    pub diff: Option<Viewport>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(lines: usize, height: usize) -> Scroll {
        let mut s = Scroll::default();
        s.measure(Viewport { lines, height });
        s
    }

    #[test]
    fn moves_stay_within_what_was_measured() {
        let mut s = measured(30, 10);
        s.apply(Motion::By(-1));
        assert_eq!(s.first_line(s.measured), 0);
        s.apply(Motion::Pages(1));
        assert_eq!(s.first_line(s.measured), 10);
        s.apply(Motion::Bottom);
        assert_eq!(s.first_line(s.measured), 20, "the last page, not past it");
        s.apply(Motion::By(-1));
        assert_eq!(s.first_line(s.measured), 19, "up from the bottom is one line up");
        s.apply(Motion::By(5));
        assert!(s.is_at_end());
        s.apply(Motion::Top);
        assert_eq!(s.first_line(s.measured), 0);
    }

    #[test]
    fn a_following_view_shows_new_lines_until_moved_off_the_end() {
        let mut s = Scroll::following();
        assert_eq!(s.first_line(Viewport { lines: 50, height: 5 }), 45);
        s.measure(Viewport { lines: 50, height: 5 });
        s.apply(Motion::By(-2));
        assert_eq!(
            s.first_line(Viewport { lines: 60, height: 5 }),
            43,
            "stays put as lines arrive"
        );
        s.apply(Motion::Bottom);
        assert_eq!(s.first_line(Viewport { lines: 60, height: 5 }), 55);
        let short = Viewport { lines: 3, height: 5 };
        assert_eq!(s.first_line(short), 0, "content that fits starts at the top");
    }
}
