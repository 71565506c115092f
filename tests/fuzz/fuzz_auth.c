/* WWW-Authenticate challenges and token endpoint answers (engine/registry/auth): both come from
 * registries. A header parses into at most `max` challenges, each freed exactly once, and the
 * one auth_pick chooses is among them; a token answer gives a token and a lifetime of at least
 * 60 seconds that the client can add to a millisecond clock. */
#include "fuzz.h"
#include "registry/auth.h"

#define MAX_CHALLENGES 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *header = fuzz_cstr(data, size);
    auth_challenge list[MAX_CHALLENGES];
    int n = auth_parse_challenges(header, list, MAX_CHALLENGES);
    fuzz_require(n >= -1 && n <= MAX_CHALLENGES, "%d challenges", n);
    if (n >= 0) {
        for (int i = 0; i < n; i++)
            fuzz_require(list[i].scheme != AUTH_NONE, "challenge %d has no scheme", i);
        const auth_challenge *pick = auth_pick(list, (size_t)n);
        fuzz_require(!pick || (pick >= list && pick < list + n), "auth_pick outside the list");
        for (int i = 0; i < n; i++)
            auth_challenge_free(&list[i]);
    }
    free(header);

    char *body = fuzz_exact(data, size);
    char *token = NULL;
    long expires_in = 0;
    if (auth_parse_token_response(body, size, &token, &expires_in) == 0) {
        fuzz_require(token && token[0], "a token answer without a token");
        fuzz_require(expires_in >= 60, "expires_in %ld", expires_in);
        /* client.c: registry_now_ms() + expires_in * 1000, with now before 2100 */
        fuzz_require(expires_in <= (INT64_MAX - 4102444800000LL) / 1000,
                     "expires_in %ld s overflows the millisecond clock", expires_in);
        free(token);
    } else {
        fuzz_require(!token, "a refused token answer left a token");
    }
    free(body);
    return 0;
}
