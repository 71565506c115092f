/* Image references and image-list annotations (engine/imageref). A reference that parses is
 * normalised: its full name (and its short name), with the tag and digest, parse again to the
 * same reference. An image-list never loses an entry silently: each is either an item or an
 * error. */
#include "fuzz.h"
#include "select/imageref.h"
#include "util.h"

static void same_ref(const imageref *a, const imageref *b, const char *text)
{
    fuzz_require(str_same(a->registry, b->registry), "'%s': registry %s vs %s", text, a->registry,
                 b->registry);
    fuzz_require(str_same(a->repository, b->repository), "'%s': repository %s vs %s", text,
                 a->repository, b->repository);
    fuzz_require(str_same(a->name, b->name), "'%s': name %s vs %s", text, a->name, b->name);
    fuzz_require(str_same(a->api_host, b->api_host), "'%s': api_host %s vs %s", text, a->api_host,
                 b->api_host);
    fuzz_require(str_same(a->tag, b->tag), "'%s': tag", text);
    fuzz_require(str_same(a->digest, b->digest), "'%s': digest", text);
}

static void reparse(const imageref *ref, const char *name, const char *input)
{
    strbuf sb = {0};
    strbuf_puts(&sb, name);
    if (ref->tag)
        strbuf_printf(&sb, ":%s", ref->tag);
    if (ref->digest)
        strbuf_printf(&sb, "@%s", ref->digest);
    imageref again;
    tp_err err;
    fuzz_require(imageref_parse(sb.data, &again, &err) == 0,
                 "'%s' normalises to '%s', which does not parse: %s", input, sb.data, err.msg);
    same_ref(ref, &again, sb.data);
    imageref_free(&again);
    strbuf_free(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    imageref ref;
    tp_err err;
    if (imageref_parse(text, &ref, &err) == 0) {
        fuzz_require(ref.registry && ref.repository && ref.name && ref.short_name && ref.api_host,
                     "'%s': a field is missing", text);
        reparse(&ref, ref.name, text);
        reparse(&ref, ref.short_name, text);
        imageref copy;
        imageref_copy(&copy, &ref);
        same_ref(&ref, &copy, text);
        imageref_free(&copy);
        imageref_free(&ref);
    } else {
        fuzz_require(err.msg[0] != '\0', "'%s' refused without a message", text);
    }

    image_list list = {0};
    strvec errors = {0};
    int bad = imageref_parse_list(text, &list, &errors);
    fuzz_require(bad >= 0 && (size_t)bad == errors.count, "%d bad entries, %zu errors", bad,
                 errors.count);
    for (size_t i = 0; i < list.count; i++) {
        const image_entry *e = &list.items[i];
        fuzz_require(e->ref.name && !e->ref.tag, "entry %zu: no name, or a tag kept", i);
        for (size_t j = 0; e->alias && j < i; j++)
            fuzz_require(!str_eq(e->alias, list.items[j].alias), "alias '%s' twice", e->alias);
    }
    for (size_t i = 0; i < errors.count; i++)
        fuzz_require(errors.items[i][0] != '\0', "an empty error");
    image_list_free(&list);
    strvec_free(&errors);
    free(text);
    return 0;
}
