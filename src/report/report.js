/* report.js - draws the charts of an EnergyLens report page (embedded by
 * src/report/assets.S; the page inlines it before the Vega scripts).
 *
 * The library writes everything page-specific into the JSON element el-data
 * as JSON: {config, datasets, charts: [{id, spec}]}. This loader gives every
 * Vega-Lite spec the shared config and its own copy of the datasets, draws
 * it into the element with that id through vega-embed (SVG, so print stays
 * vector), and records the outcome on <html> for people and tests alike:
 *   data-el-state    "loading", then "done" once every chart settled
 *   data-el-charts   charts on the page;  data-el-drawn  charts drawn
 *   data-el-errors, data-el-warnings   script errors / Vega warnings logged
 * Errors and warnings (window errors, rejected promises, console.error and
 * console.warn, blocked network requests) are also listed in
 * #el-diagnostics, which headless `--dump-dom` shows. */
(function () {
  'use strict';
  var root = document.documentElement;
  var counts = { error: 0, warning: 0 };
  var pending = [];

  function text(x) {
    if (x && x.message) return String(x.message);
    try { return typeof x === 'string' ? x : JSON.stringify(x); } catch (e) { return String(x); }
  }
  function show(kind, msg) {
    var box = document.getElementById('el-diagnostics');
    if (!box) { pending.push([kind, msg]); return; }
    var li = document.createElement('li');
    li.setAttribute('data-kind', kind);
    li.textContent = kind + ': ' + msg;
    box.appendChild(li);
    box.className = 'shown';
  }
  function record(kind, msg) {
    counts[kind] += 1;
    root.setAttribute(kind === 'error' ? 'data-el-errors' : 'data-el-warnings', String(counts[kind]));
    show(kind, msg);
  }
  root.setAttribute('data-el-state', 'loading');
  root.setAttribute('data-el-errors', '0');
  root.setAttribute('data-el-warnings', '0');

  window.addEventListener('error', function (e) {
    record('error', (e.message || 'script error') + (e.filename ? ' (' + e.filename + ':' + e.lineno + ')' : ''));
  });
  window.addEventListener('unhandledrejection', function (e) {
    record('error', 'unhandled rejection: ' + text(e.reason));
  });
  document.addEventListener('securitypolicyviolation', function (e) {
    record('error', 'blocked ' + (e.blockedURI || 'a resource') + ' (' + e.violatedDirective + ')');
  });
  ['error', 'warn'].forEach(function (level) {
    var orig = console[level];
    console[level] = function () {
      var parts = Array.prototype.map.call(arguments, text);
      record(level === 'error' ? 'error' : 'warning', parts.join(' '));
      if (orig) orig.apply(console, arguments);
    };
  });

  function draw() {
    var early = pending;
    pending = [];
    early.forEach(function (p) { show(p[0], p[1]); });
    var holder = document.getElementById('el-data');
    var doc;
    try {
      doc = JSON.parse(holder.textContent);
    } catch (e) {
      record('error', 'report data: ' + text(e));
      root.setAttribute('data-el-state', 'done');
      return;
    }
    var charts = doc.charts || [];
    var drawn = 0;
    root.setAttribute('data-el-charts', String(charts.length));
    root.setAttribute('data-el-drawn', '0');
    if (typeof vegaEmbed !== 'function') {
      record('error', 'vega-embed did not load');
      root.setAttribute('data-el-state', 'done');
      return;
    }
    var views = [];
    var jobs = charts.map(function (c) {
      var el = document.getElementById(c.id);
      if (!el) {
        record('error', 'no element for chart ' + c.id);
        return Promise.resolve();
      }
      var spec = c.spec;
      spec.config = doc.config;
      spec.datasets = JSON.parse(JSON.stringify(doc.datasets));
      return vegaEmbed(el, spec, {
        renderer: 'svg',
        actions: { export: true, source: false, compiled: false, editor: false },
        logLevel: 2 /* vega.Warn */
      }).then(function (res) {
        views.push(res.view);
        drawn += 1;
        el.setAttribute('data-drawn', '1');
        root.setAttribute('data-el-drawn', String(drawn));
      }, function (err) {
        el.setAttribute('data-drawn', 'error');
        record('error', 'chart ' + c.id + ': ' + text(err));
      });
    });
    Promise.all(jobs).then(function () {
      root.setAttribute('data-el-state', 'done');
    });
    window.addEventListener('beforeprint', function () {
      views.forEach(function (v) { v.resize().runAsync(); });
    });
  }

  if (document.readyState === 'loading')
    document.addEventListener('DOMContentLoaded', draw);
  else
    draw();
})();
