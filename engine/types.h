/* types: value types several layers share (selection, registry, sources, write-back) and that
 * depend on nothing. Only plain data here: no functions, no includes of other engine headers. */
#ifndef TP_TYPES_H
#define TP_TYPES_H

/* An OS/architecture pair images are built for, as Go spells it ("linux", "arm64", "v8"). */
typedef struct platform {
    char *os, *arch, *variant; /* variant may be NULL */
} platform;

#endif
