// Infinite scroll: load the next page of posts when the sentinel scrolls into view.
(function () {
  const feed = document.getElementById('feed');
  const sentinel = document.getElementById('feed-sentinel');
  if (!feed || !sentinel) return;
  let loading = false;
  const visible = () => sentinel.isConnected && sentinel.getBoundingClientRect().top < window.innerHeight;
  async function more() {
    const next = feed.dataset.next;
    if (!next || loading) return;
    loading = true;
    try {
      const response = await fetch(next, { credentials: 'same-origin' });
      if (!response.ok) throw new Error('HTTP ' + response.status);
      const page = await response.json();
      feed.insertAdjacentHTML('beforeend', page.html);
      if (page.next) {
        feed.dataset.next = page.next;
      } else {
        delete feed.dataset.next;
        const end = document.createElement('p');
        end.className = 'feed-end';
        end.dataset.testid = 'feed-end';
        end.textContent = 'No more posts';
        sentinel.replaceWith(end);
      }
    } catch (err) {
      sentinel.textContent = 'Could not load more posts.';
    } finally {
      loading = false;
    }
    if (visible()) more();
  }
  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) more();
  }).observe(sentinel);
})();
