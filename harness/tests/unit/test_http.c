/*
 * test_http.c: the page fetcher (drivers/http.h) and the t.documents binding
 * against a small HTTP server of this test on 127.0.0.1: a page, a recorded
 * redirect, a redirect loop, a redirect out of scope (not followed), a 401, the
 * size cap, a silent server (deadline), a URL out of scope; and the binding's
 * evidence files (exact bytes named by SHA-256, the record beside them) and
 * reading a dossier file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <lauxlib.h>
#include <lualib.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "drivers/http.h"
#include "lua/bind_documents.h"

#define PAGE "<html><body><p>Updates until 31 December 2028.</p></body></html>"

struct server {
    int fd;
    uint16_t port;
    int stop;
    pthread_t th;
};

static void reply(int c, const char *path)
{
    char buf[4096];
    const char *status = "200 OK", *extra = "", *body = PAGE;
    char big[20000];
    if (strcmp(path, "/redir") == 0) {
        status = "302 Found";
        extra = "Location: /page\r\n";
        body = "";
    } else if (strcmp(path, "/loop") == 0) {
        status = "302 Found";
        extra = "Location: /loop\r\n";
        body = "";
    } else if (strcmp(path, "/away") == 0) {
        status = "301 Moved";
        extra = "Location: http://10.9.9.9/elsewhere\r\n";
        body = "";
    } else if (strcmp(path, "/members") == 0) {
        status = "401 Unauthorized";
        extra = "WWW-Authenticate: Basic realm=\"m\"\r\n";
        body = "login";
    } else if (strcmp(path, "/big") == 0) {
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        body = big;
    } else if (strcmp(path, "/silent") == 0) {
        struct pollfd p = {.fd = c, .events = POLLIN};
        poll(&p, 1, 1500);
        return;
    }
    int n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 %s\r\nContent-Type: text/html\r\n%sContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, extra, strlen(body));
    send(c, buf, (size_t)n, MSG_NOSIGNAL);
    send(c, body, strlen(body), MSG_NOSIGNAL);
}

static void *serve(void *arg)
{
    struct server *s = arg;
    while (!s->stop) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 50) != 1)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        char req[2048] = "";
        size_t len = 0;
        while (len < sizeof(req) - 1 && !strstr(req, "\r\n\r\n")) {
            struct pollfd q = {.fd = c, .events = POLLIN};
            if (poll(&q, 1, 1000) != 1)
                break;
            ssize_t r = recv(c, req + len, sizeof(req) - 1 - len, 0);
            if (r <= 0)
                break;
            len += (size_t)r;
            req[len] = '\0';
        }
        char path[256] = "";
        if (sscanf(req, "GET %255s", path) == 1)
            reply(c, path);
        close(c);
    }
    return NULL;
}

static int setup(void **state)
{
    struct server *s = calloc(1, sizeof(*s));
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1;
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s->fd, (struct sockaddr *)&a, sizeof(a)) || listen(s->fd, 8))
        return -1;
    socklen_t alen = sizeof(a);
    getsockname(s->fd, (struct sockaddr *)&a, &alen);
    s->port = ntohs(a.sin_port);
    pthread_create(&s->th, NULL, serve, s);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    struct server *s = *state;
    s->stop = 1;
    pthread_join(s->th, NULL);
    close(s->fd);
    free(s);
    return 0;
}

static struct scope loopback(void)
{
    struct scope sc;
    scope_init(&sc);
    assert_int_equal(scope_add(&sc, "127.0.0.1", NULL), 0);
    return sc;
}

static int get(struct server *s, const char *path, struct http_opts *o, struct http_response *r)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)s->port, path);
    struct scope sc = loopback();
    struct assay_error err = {0};
    int rc = http_get(&sc, NULL, url, o, r, &err);
    scope_release(&sc);
    return rc;
}

static void test_page_and_redirects(void **state)
{
    struct server *s = *state;
    struct http_opts o = {.timeout_ms = 3000, .max_bytes = 65536, .max_redirects = 3};
    struct http_response r;
    assert_int_equal(get(s, "/page", &o, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, strlen(PAGE));
    assert_memory_equal(r.body, PAGE, r.body_len);
    assert_non_null(strstr(r.headers, "Content-Type: text/html"));
    assert_string_equal(r.content_type, "text/html");
    assert_int_equal(r.nhops, 1);
    assert_true(strlen(r.fetched_utc) >= 20);
    http_response_release(&r);

    assert_int_equal(get(s, "/redir", &o, &r), 0);
    assert_int_equal(r.nhops, 2);
    assert_int_equal(r.hops[0].status, 302);
    assert_non_null(strstr(r.hops[0].location, "/page"));
    assert_int_equal(r.status, 200);
    assert_string_equal(r.stop, "");
    http_response_release(&r);

    assert_int_equal(get(s, "/loop", &o, &r), 0);
    assert_int_equal(r.nhops, 4); /* the first request and three redirects */
    assert_int_equal(r.status, 302);
    assert_non_null(strstr(r.stop, "too many"));
    http_response_release(&r);

    assert_int_equal(get(s, "/away", &o, &r), 0);
    assert_int_equal(r.nhops, 1);
    assert_int_equal(r.status, 301);
    assert_non_null(strstr(r.stop, "out of scope"));
    http_response_release(&r);
}

static void test_status_cap_deadline_scope(void **state)
{
    struct server *s = *state;
    struct http_opts o = {.timeout_ms = 3000, .max_bytes = 1000, .max_redirects = 0};
    struct http_response r;
    assert_int_equal(get(s, "/members", &o, &r), 0);
    assert_int_equal(r.status, 401);
    http_response_release(&r);

    assert_int_equal(get(s, "/big", &o, &r), 0);
    assert_int_equal(r.body_len, 1000);
    assert_true(r.truncated);
    http_response_release(&r);

    o.timeout_ms = 300;
    assay_ms start = clock_now_ms();
    assert_int_equal(get(s, "/silent", &o, &r), ASSAY_ETIMEOUT);
    assert_true(clock_now_ms() - start < 1200);
    http_response_release(&r);

    struct scope sc = loopback();
    assert_int_equal(http_get(&sc, NULL, "http://127.0.0.2:1/x", &o, &r, NULL), ASSAY_ESCOPE);
    http_response_release(&r);
    assert_int_equal(http_get(&sc, NULL, "http://localhost/x", &o, &r, NULL), ASSAY_ESCOPE);
    http_response_release(&r);
    assert_int_equal(http_get(&sc, NULL, "ftp://127.0.0.1/x", &o, &r, NULL), ASSAY_EINVAL);
    http_response_release(&r);
    scope_release(&sc);
}

static void test_binding_evidence(void **state)
{
    struct server *s = *state;
    char dir[] = "/tmp/assay-test-http-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char ev[300], dossier_dir[300], path[400];
    snprintf(ev, sizeof(ev), "%s/documents", dir);
    snprintf(dossier_dir, sizeof(dossier_dir), "%s/dossier", dir);
    mkdir(dossier_dir, 0755);
    snprintf(path, sizeof(path), "%s/vdp.html", dossier_dir);
    FILE *f = fopen(path, "w");
    fputs(PAGE, f);
    fclose(f);
    struct scope sc = loopback();
    struct binding_env env = {
        .scope = &sc, .timeout_ms = 3000, .dossier_dir = dossier_dir, .evidence_dir = ev};
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    bind_documents_push(L, &env);
    lua_setglobal(L, "docs");
    char base[64];
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", (unsigned)s->port);
    lua_pushstring(L, base);
    lua_setglobal(L, "BASE");
    /* The hash is the one sha256sum gives for PAGE; the file it names holds PAGE. */
    const char *chunk2 =
        "local d = assert(docs.fetch(BASE .. '/redir'))\n"
        "assert(d.status == 200 and #d.hops == 2 and d.hops[1].status == 302)\n"
        "assert(d.sha256 == '3c5758cb59aa52b9eb4286b7dfeff8319abf0326ab135cc7a8c1c2962e2e111b', "
        "d.sha256)\n"
        "assert(d.evidence == 'documents/' .. d.sha256 .. '.body', d.evidence)\n"
        "local p = assert(docs.text(d.body))\n"
        "assert(p.sentences[1] == 'Updates until 31 December 2028.')\n"
        "local f = assert(docs.read('vdp.html'))\n"
        "assert(f.source == 'file' and f.sha256 == d.sha256 and f.body == d.body)\n"
        "local x, why = docs.read('missing.html')\n"
        "assert(x == nil and why:find('^unreadable'))\n"
        "local y, why2 = docs.fetch('http://10.1.1.1/')\n"
        "assert(y == nil and why2:find('^out of scope'), why2)\n"
        "local st = docs.securitytxt('Contact: mailto:a@b.invalid\\nExpires: "
        "2020-01-01T00:00:00Z\\n')\n"
        "assert(st.contact[1] == 'mailto:a@b.invalid' and st.expires_epoch == 1577836800)\n"
        "assert(docs.now_utc():match('^%d%d%d%d%-%d%d%-%d%dT'))\n"
        "SHA = d.sha256\n";
    if (luaL_dostring(L, chunk2) != LUA_OK)
        fail_msg("%s", lua_tostring(L, -1));
    lua_getglobal(L, "SHA");
    snprintf(path, sizeof(path), "%s/%s.body", ev, lua_tostring(L, -1));
    char got[512] = "";
    f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(got, 1, sizeof(got) - 1, f);
    fclose(f);
    assert_int_equal(n, strlen(PAGE));
    assert_memory_equal(got, PAGE, n);
    lua_close(L);
    scope_release(&sc);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "ls %s/*.json >/dev/null && rm -rf %s", ev, dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_and_redirects),
        cmocka_unit_test(test_status_cap_deadline_scope),
        cmocka_unit_test(test_binding_evidence),
    };
    return cmocka_run_group_tests_name("http", tests, setup, teardown);
}
