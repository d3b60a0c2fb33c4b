/**
 * The console's one stylesheet, inlined into each page (one round trip on a
 * phone) and allowed by the Content-Security-Policy through its SHA-256
 * hash, so no other inline style can run. Status colours are shared by the
 * tables and the chart.
 */

/** The text of the page's single `<style>` element; its hash is in the CSP. */
export const CSS = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#5c6670;--bg:#fff;--panel:#f4f6f8;--line:#d8dde3;--accent:#0b5cad;
--sent:#1a7f37;--failed:#c62828;--rejected:#8e24aa;--no_device:#6d7780;--retrying:#d98b00;--sending:#0b7285;--invalid_token:#a0522d;--quarantined:#b35c00}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ec;--muted:#9aa4ad;--bg:#111418;--panel:#1b2026;--line:#2e353d;--accent:#6cb2ff}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.6rem 1rem;border-bottom:1px solid var(--line);background:var(--panel)}
header .brand{font-weight:600}
header nav{display:flex;flex-wrap:wrap;gap:.25rem .9rem;flex:1}
header nav a[aria-current=page]{font-weight:600;text-decoration:underline}
header .who{color:var(--muted);font-size:.9rem}
main{padding:1rem;max-width:72rem;margin:0 auto}
h1{font-size:1.4rem;margin:.2rem 0 1rem;overflow-wrap:anywhere}
h2{font-size:1.15rem;margin:1.6rem 0 .5rem}
h3{font-size:1rem;margin:1.2rem 0 .4rem}
a{color:var(--accent)}
.muted{color:var(--muted)}
.scroll{overflow-x:auto;max-width:100%;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
td{white-space:nowrap}
td.text{white-space:normal;min-width:14rem}
td.text code{overflow-wrap:break-word}
th{font-weight:600;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em;overflow-wrap:anywhere}
code.token{white-space:nowrap;word-break:normal}
caption{text-align:left;padding:.3rem 0}
figure{margin:0}
.status{font-weight:600;white-space:nowrap}
.s-sent{color:var(--sent)}.s-failed{color:var(--failed)}.s-rejected{color:var(--rejected)}.s-no_device{color:var(--no_device)}
.s-retrying{color:var(--retrying)}.s-sending{color:var(--sending)}.s-invalid_token{color:var(--invalid_token)}.s-quarantined{color:var(--quarantined)}
.bar-sent{fill:var(--sent)}.bar-failed{fill:var(--failed)}.bar-rejected{fill:var(--rejected)}.bar-no_device{fill:var(--no_device)}
.bar-retrying{fill:var(--retrying)}.bar-sending{fill:var(--sending)}.bar-invalid_token{fill:var(--invalid_token)}
.chart{width:100%;height:auto;max-height:16rem}
.chart text{fill:var(--muted);font-size:10px}
.chart line{stroke:var(--line)}
.legend{display:flex;flex-wrap:wrap;gap:.2rem 1rem;font-size:.85rem;margin:.3rem 0 0;padding:0;list-style:none}
.legend li::before{content:"";display:inline-block;width:.7rem;height:.7rem;margin-right:.3rem;vertical-align:-.05rem;background:currentColor}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(9rem,1fr));gap:.6rem;margin:.5rem 0}
.card{background:var(--panel);border:1px solid var(--line);border-radius:.4rem;padding:.5rem .7rem}
.card b{display:block;font-size:1.4rem;font-variant-numeric:tabular-nums}
.alarm{border-left:4px solid var(--failed);background:var(--panel);padding:.6rem .8rem;margin:.5rem 0}
.notice{border-left:4px solid var(--sent);background:var(--panel);padding:.6rem .8rem;margin:.5rem 0}
.error{border-left:4px solid var(--failed);background:var(--panel);padding:.6rem .8rem;margin:.5rem 0}
form.inline{display:inline}
form.search{display:flex;flex-wrap:wrap;gap:.5rem;margin:.5rem 0 1rem}
input,select,button{font:inherit;padding:.45rem .6rem;border:1px solid var(--line);border-radius:.3rem;background:var(--bg);color:var(--fg)}
form.search input{min-width:0;flex:1 1 14rem}
button{cursor:pointer;background:var(--panel)}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
button.danger{background:var(--failed);border-color:var(--failed);color:#fff}
details.confirm{display:inline-block}
details.confirm summary{cursor:pointer;list-style:none;display:inline-block;padding:.3rem .6rem;border:1px solid var(--line);border-radius:.3rem;background:var(--panel)}
details.confirm summary::-webkit-details-marker{display:none}
details.confirm[open]{display:block;background:var(--panel);padding:.5rem;border-radius:.3rem;margin:.3rem 0}
details.confirm p{margin:.4rem 0;white-space:normal;min-width:16rem}
.recent-users{display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;padding:0;list-style:none}
.recent-users a{white-space:nowrap}
.pager{display:flex;gap:1rem;margin:1rem 0}
.login{max-width:26rem;margin:3rem auto}
.login form{display:flex;flex-direction:column;gap:.7rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0}
`;

let hash: Promise<string> | undefined;

/** The CSP source for CSS, `'sha256-…'`, computed once per isolate. */
export function styleHash(): Promise<string> {
  hash ??= crypto.subtle.digest("SHA-256", new TextEncoder().encode(CSS)).then((digest) => {
    const base64 = btoa(String.fromCharCode(...new Uint8Array(digest)));
    return `'sha256-${base64}'`;
  });
  return hash;
}
