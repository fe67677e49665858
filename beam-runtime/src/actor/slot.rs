//! A heap slot that an actor's handler futures take turns in, so that the actor's task
//! keeps one pointer instead of room for its largest handler, and a handler allocates
//! nothing once the slot exists.
//!
//! An idle actor is mostly its task, and a task is as large as the future it runs: if the
//! receive loop held its handler future inline, every actor would carry room for its
//! largest `async` handler (with whatever calls it awaits) even while it waits for mail.
//! The slot is allocated the first time a step needs a future, sized for the loop's one
//! handler type, and reused for every later step.

use std::alloc::{self, Layout};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

/// Memory for one future at a time; see the [module](self) docs.
pub(crate) struct FutureSlot {
    /// The allocation and its layout, made on first use.
    memory: Option<(NonNull<u8>, Layout)>,
}

// SAFETY: the slot owns plain memory. A future lives in it only while a `Placed` borrows
// the slot mutably, and `Placed` is `Send` only if the future is.
unsafe impl Send for FutureSlot {}

impl FutureSlot {
    pub(crate) const fn new() -> Self {
        Self { memory: None }
    }

    /// Makes a future with `make` right in the slot (allocating it first if it has no room
    /// of `F`'s layout), and returns the future that polls it there and drops it when done
    /// or dropped.
    #[inline(always)]
    pub(crate) fn place<F: Future>(&mut self, make: impl FnOnce() -> F) -> Placed<'_, F> {
        let layout = Layout::new::<F>();
        let ptr = if layout.size() == 0 {
            NonNull::<F>::dangling()
        } else {
            match self.memory {
                Some((ptr, held)) if held == layout => ptr.cast::<F>(),
                _ => {
                    self.release();
                    // SAFETY: `layout` has a non-zero size.
                    let raw = unsafe { alloc::alloc(layout) };
                    let Some(ptr) = NonNull::new(raw) else {
                        alloc::handle_alloc_error(layout)
                    };
                    self.memory = Some((ptr, layout));
                    ptr.cast::<F>()
                }
            }
        };
        // SAFETY: `ptr` is valid for writes of `F` and properly aligned (allocated with
        // `F`'s layout, or dangling for a zero-sized `F`); no other future lives there,
        // since a `Placed` holding one borrows `self` mutably.
        unsafe { ptr.as_ptr().write(make()) };
        Placed {
            ptr,
            live: true,
            _slot: PhantomData,
        }
    }

    fn release(&mut self) {
        if let Some((ptr, layout)) = self.memory.take() {
            // SAFETY: allocated with this layout by `place`, and no future lives in it.
            unsafe { alloc::dealloc(ptr.as_ptr(), layout) };
        }
    }
}

impl Drop for FutureSlot {
    fn drop(&mut self) {
        self.release();
    }
}

/// A future running in a [`FutureSlot`]: it stays at the slot's address until it is
/// dropped (when it completes, or when this is dropped), which the borrow of the slot
/// guarantees happens before the slot is reused or freed.
pub(crate) struct Placed<'s, F> {
    ptr: NonNull<F>,
    /// Whether the future is still in the slot (not yet completed and dropped).
    live: bool,
    _slot: PhantomData<(&'s mut FutureSlot, F)>,
}

// SAFETY: `Placed` owns the `F` in the slot, so it may move to another thread when `F` may.
unsafe impl<F: Send> Send for Placed<'_, F> {}

// The future is pinned in the slot, not in `Placed`.
impl<F> Unpin for Placed<'_, F> {}

impl<F: Future> Future for Placed<'_, F> {
    type Output = F::Output;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        assert!(self.live, "a placed future was polled after it completed");
        // SAFETY: the future is live at `ptr` and is never moved out of the slot: it is
        // dropped in place, so pinning it there is sound.
        let out = unsafe { Pin::new_unchecked(&mut *self.ptr.as_ptr()) }.poll(cx);
        if out.is_ready() {
            self.live = false;
            // SAFETY: live until just now, and not touched again (`live` is false).
            unsafe { self.ptr.as_ptr().drop_in_place() };
        }
        out
    }
}

impl<F> Drop for Placed<'_, F> {
    fn drop(&mut self) {
        if self.live {
            self.live = false;
            // SAFETY: the future is live at `ptr`; `live` is false, so it is dropped once.
            unsafe { self.ptr.as_ptr().drop_in_place() };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Waker;

    struct Dropped(Arc<AtomicUsize>);

    impl Drop for Dropped {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
        fut.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn runs_each_future_in_the_same_memory_and_drops_it_once() {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut slot = FutureSlot::new();
        let mut addresses = Vec::new();
        for n in 0..3_u32 {
            let guard = Dropped(drops.clone());
            let mut placed = slot.place(|| async move {
                let _guard = guard;
                n * 2
            });
            addresses.push(placed.ptr.cast::<u8>());
            assert_eq!(poll(Pin::new(&mut placed)), Poll::Ready(n * 2));
            assert_eq!(drops.load(Ordering::SeqCst), n as usize + 1);
        }
        assert!(addresses.windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn dropping_a_pending_future_drops_it_in_place() {
        let drops = Arc::new(AtomicUsize::new(0));
        let mut slot = FutureSlot::new();
        let guard = Dropped(drops.clone());
        let mut placed = slot.place(|| async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        assert!(poll(Pin::new(&mut placed)).is_pending());
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        drop(placed);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        // A future of another layout gets fresh memory.
        let mut placed = slot.place(|| std::future::ready([7_u64; 9]));
        assert_eq!(poll(Pin::new(&mut placed)), Poll::Ready([7; 9]));
    }

    /// A future of no size.
    struct Now;

    impl Future for Now {
        type Output = u8;

        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u8> {
            Poll::Ready(3)
        }
    }

    #[test]
    fn zero_sized_futures_need_no_memory() {
        let mut slot = FutureSlot::new();
        let mut placed = slot.place(|| Now);
        assert_eq!(poll(Pin::new(&mut placed)), Poll::Ready(3));
        drop(placed);
        assert!(slot.memory.is_none());
    }
}
