#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "writeback/argocd_source.h"

/* Byte for byte what argocd-image-updater writes. */
Test(argocd_source, helm_new_file)
{
    argocd_param p[] = {{"image.tag", "v1.0.1"},
                        {"image.name", "ghcr.io/amplication/bookstore-application"}};
    strbuf out = {0};
    tp_err err = {{0}};
    cr_assert_eq(argocd_source_helm(NULL, 0, "f", p, 2, &out, &err), 0, "%s", err.msg);
    cr_assert_str_eq(out.data, "helm:\n"
                               "  parameters:\n"
                               "  - name: image.name\n"
                               "    value: ghcr.io/amplication/bookstore-application\n"
                               "    forcestring: true\n"
                               "  - name: image.tag\n"
                               "    value: v1.0.1\n"
                               "    forcestring: true\n");
    strbuf_free(&out);
}

Test(argocd_source, helm_merge_keeps_others_sorted)
{
    const char *old = "helm:\n  parameters:\n"
                      "  - name: replicaCount\n    value: \"3\"\n    forcestring: false\n"
                      "  - name: image.tag\n    value: v1.0.0\n    forcestring: true\n"
                      "  - name: a.first\n    value: x\n    forcestring: true\n";
    argocd_param p[] = {{"image.tag", "1.10"}, {"image.name", "nginx"}};
    strbuf out = {0};
    tp_err err = {{0}};
    cr_assert_eq(argocd_source_helm(old, strlen(old), "f", p, 2, &out, &err), 0, "%s", err.msg);
    cr_assert_str_eq(out.data,
                     "helm:\n"
                     "  parameters:\n"
                     "  - name: a.first\n    value: x\n    forcestring: true\n"
                     "  - name: image.name\n    value: nginx\n    forcestring: true\n"
                     "  - name: image.tag\n    value: \"1.10\"\n    forcestring: true\n"
                     "  - name: replicaCount\n    value: \"3\"\n    forcestring: false\n");
    /* Writing the same again gives the same bytes: no commit. */
    strbuf again = {0};
    cr_assert_eq(argocd_source_helm(out.data, out.len, "f", p, 2, &again, &err), 0);
    cr_assert_str_eq(again.data, out.data);
    strbuf_free(&out);
    strbuf_free(&again);
}

Test(argocd_source, kustomize_replace_and_append)
{
    const char *old = "kustomize:\n  images:\n  - ghcr.io/acme/web:1.0.0\n  - other=x/y:2\n";
    const char *set[] = {"ghcr.io/acme/web:1.1.0", "redis:7.2"};
    strbuf out = {0};
    tp_err err = {{0}};
    cr_assert_eq(argocd_source_kustomize(old, strlen(old), "f", set, 2, &out, &err), 0, "%s",
                 err.msg);
    cr_assert_str_eq(out.data, "kustomize:\n  images:\n  - ghcr.io/acme/web:1.1.0\n"
                               "  - other=x/y:2\n  - redis:7.2\n");
    strbuf_free(&out);
}

Test(argocd_source, malformed_existing_file)
{
    const char *old = "helm: [\n";
    argocd_param p[] = {{"image.tag", "v1"}};
    strbuf out = {0};
    tp_err err = {{0}};
    cr_assert_eq(argocd_source_helm(old, strlen(old), ".argocd-source-x.yaml", p, 1, &out, &err),
                 -1);
    cr_assert(strstr(err.msg, ".argocd-source-x.yaml:"), "%s", err.msg);
    strbuf_free(&out);
}
