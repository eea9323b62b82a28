/*
 * test_page.c: the HTML reader (drivers/page.h): visible sentences only (no
 * script, style or head), sentence ends at blocks and punctuation, links with
 * mailto:, the title and language, entities and broken markup, and the caps.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/page.h"

static struct page parse(const char *html)
{
    struct page p;
    assert_int_equal(page_parse(&p, html, strlen(html), NULL), 0);
    return p;
}

static void test_sentences_and_hidden(void **state)
{
    (void)state;
    struct page p = parse(
        "<!doctype html><html lang=\"en-GB\"><head><title> Support  period </title>"
        "<style>p{}</style><script>var hidden = 'until 2020';</script></head><body>"
        "<h1>Support</h1><p>We provide updates\n   until <b>31 December 2028</b>. After "
        "that, none!<br>Contact &amp; more at <a href=\"mailto:sec@x.invalid\">sec@x.invalid</a>"
        "</p><noscript>enable js</noscript><ul><li>one</li><li>two</li></ul></body></html>");
    assert_string_equal(p.title, "Support period");
    assert_string_equal(p.lang, "en-GB");
    assert_int_equal(p.nsentences, 6);
    assert_string_equal(p.sentences[0], "Support");
    assert_string_equal(p.sentences[1], "We provide updates until 31 December 2028.");
    assert_string_equal(p.sentences[2], "After that, none!");
    assert_string_equal(p.sentences[3], "Contact & more at sec@x.invalid");
    assert_string_equal(p.sentences[4], "one");
    assert_string_equal(p.sentences[5], "two");
    assert_int_equal(p.nlinks, 1);
    assert_string_equal(p.links[0].href, "mailto:sec@x.invalid");
    assert_string_equal(p.links[0].text, "sec@x.invalid");
    assert_false(p.truncated);
    page_release(&p);
}

static void test_broken_markup(void **state)
{
    (void)state;
    struct page p = parse("<p>unclosed <b>bold <div>inner</p> tail <a href=x>link");
    assert_true(p.nsentences >= 2);
    assert_string_equal(p.title, "");
    assert_string_equal(p.lang, "");
    int saw_inner = 0;
    for (size_t i = 0; i < p.nsentences; i++)
        saw_inner |= strstr(p.sentences[i], "inner") != NULL;
    assert_true(saw_inner);
    assert_int_equal(p.nlinks, 1);
    page_release(&p);
    /* No document at all. */
    struct page q;
    assert_int_equal(page_parse(&q, "", 0, NULL), ASSAY_EINVAL);
    page_release(&q);
}

static void test_caps(void **state)
{
    (void)state;
    size_t n = PAGE_MAX_SENTENCES + 10;
    char *html = malloc(n * 8 + 64);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(html + k, 9, "<p>s</p>");
    struct page p;
    assert_int_equal(page_parse(&p, html, k, NULL), 0);
    assert_int_equal(p.nsentences, PAGE_MAX_SENTENCES);
    assert_true(p.truncated);
    page_release(&p);
    /* One over-long sentence is cut at the cap. */
    char *lng = malloc(PAGE_MAX_SENTENCE * 2 + 16);
    memcpy(lng, "<p>", 3);
    memset(lng + 3, 'x', PAGE_MAX_SENTENCE * 2);
    memcpy(lng + 3 + PAGE_MAX_SENTENCE * 2, "</p>", 5);
    assert_int_equal(page_parse(&p, lng, strlen(lng), NULL), 0);
    assert_int_equal(strlen(p.sentences[0]), PAGE_MAX_SENTENCE);
    assert_true(p.truncated);
    page_release(&p);
    /* Deep nesting is walked without recursion. */
    size_t depth = 20000;
    char *deep = malloc(depth * 5 + 16);
    for (size_t i = 0; i < depth; i++)
        memcpy(deep + i * 5, "<div>", 5);
    memcpy(deep + depth * 5, "deep", 5);
    assert_int_equal(page_parse(&p, deep, strlen(deep), NULL), 0);
    page_release(&p);
    free(deep);
    free(lng);
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sentences_and_hidden),
        cmocka_unit_test(test_broken_markup),
        cmocka_unit_test(test_caps),
    };
    return cmocka_run_group_tests_name("page", tests, NULL, NULL);
}
