/* assets.S - embeds the report page's static files into the library.
 *
 * `energylens report` writes one self-contained HTML page that must work
 * from an installed binary, anywhere and offline, so the vendored Vega,
 * Vega-Lite and vega-embed builds (vendor/vega/, see its README) and the
 * page's own stylesheet and loader script are assembled into read-only data
 * here with .incbin rather than read from disk at run time. Paths are
 * relative to the repository root, where make runs. Each file is followed by
 * a NUL byte; NAME_size holds its length without it (report_int.h). */

#define ASSET(name, file)                                                     \
    .section .rodata.eli_assets, "a";                                         \
    .globl name;                                                              \
    .hidden name;                                                             \
    .balign 16;                                                               \
name:                                                                         \
    .incbin file;                                                             \
name##_end:                                                                   \
    .byte 0;                                                                  \
    .globl name##_size;                                                       \
    .hidden name##_size;                                                      \
    .balign 8;                                                                \
name##_size:                                                                  \
    .quad name##_end - name

ASSET(eli_asset_vega_js, "vendor/vega/vega.min.js")
ASSET(eli_asset_vega_lite_js, "vendor/vega/vega-lite.min.js")
ASSET(eli_asset_vega_embed_js, "vendor/vega/vega-embed.min.js")
ASSET(eli_asset_report_css, "src/report/report.css")
ASSET(eli_asset_report_js, "src/report/report.js")

#if defined(__ELF__)
    .section .note.GNU-stack, "", %progbits
#endif
