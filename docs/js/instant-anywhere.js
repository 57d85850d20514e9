// Keeps the theme's instant navigation (and so the playground's Python) working
// wherever the site is served, not only at its site_url.
//
// The theme follows a link without reloading the page only if the link is in
// sitemap.xml, and it compares the sitemap's addresses with the page's by port
// and path, not only by host: served on another port (mkdocs serve -a ...:8001)
// or under a sub-folder (https://example.org/docs/), no link would be in the
// sitemap, every click would reload the page, and a playground that had started
// Python would start it again. So the sitemap's addresses are moved to where the
// site really is, as the theme reads them. docs/hooks/instant_anywhere.py loads
// this file in <head>, before the theme's own script asks for the sitemap.
(() => {
  const script = document.currentScript;
  const siteUrl = script && script.dataset.siteUrl;
  if (!siteUrl) return;
  const root = new URL("../", script.src).href; // this file is <root>/js/instant-anywhere.js
  if (root === siteUrl) return;
  const parse = DOMParser.prototype.parseFromString;
  DOMParser.prototype.parseFromString = function (text, type) {
    if (type === "text/xml" && typeof text === "string" && text.includes("<urlset")) {
      text = text.split(`<loc>${siteUrl}`).join(`<loc>${root}`);
    }
    return parse.call(this, text, type);
  };
})();
