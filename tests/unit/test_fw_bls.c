/*
 * The firmware's Boot Loader Specification parser (guest/firmware/bls.c):
 * the specification's complete example, the line syntax (comments, blanks,
 * tabs, CRLF, several options and initrd lines, unknown keys), entries for
 * another architecture or EFI only, missing linux, values one byte too long,
 * boot counting in file names; then the version comparison against the
 * examples of the UAPI Version Format Specification and systemd's ordering
 * list, and the menu order of the "Sorting" section. Every text is handed
 * over in a heap buffer of exactly its length, without a NUL, so
 * AddressSanitizer catches a read past its end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bls.h"

/* Parses text (exactly strlen(text) bytes, no NUL) as entry id. */
static int parse(const char *text, const char *id, struct bls_entry *e, const char **why)
{
	size_t n = strlen(text);
	char *copy = malloc(n ? n : 1);
	int rc;

	memcpy(copy, text, n);
	*why = NULL;
	rc = bls_parse(copy, n, id, e, why);
	free(copy);
	return rc;
}

static struct bls_entry e;

static void test_spec_example(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(
	    parse(
		"# /boot/loader/entries/6a9857a393724b7a981ebb5b8495b9ea-3.8.0-2.fc19.x86_64.conf\n"
		"title        Fedora 19 (Rawhide)\n"
		"sort-key     fedora\n"
		"machine-id   6a9857a393724b7a981ebb5b8495b9ea\n"
		"version      3.8.0-2.fc19.x86_64\n"
		"options      root=UUID=6d3376e4-fc93-4509-95ec-a21d68011da2 quiet\n"
		"architecture x64\n"
		"linux        /6a9857a393724b7a981ebb5b8495b9ea/3.8.0-2.fc19.x86_64/linux\n"
		"initrd       /6a9857a393724b7a981ebb5b8495b9ea/3.8.0-2.fc19.x86_64/initrd\n",
		"6a9857a393724b7a981ebb5b8495b9ea-3.8.0-2.fc19.x86_64.conf", &e, &why),
	    0);
	assert_null(why);
	assert_string_equal(e.id, "6a9857a393724b7a981ebb5b8495b9ea-3.8.0-2.fc19.x86_64");
	assert_string_equal(e.title, "Fedora 19 (Rawhide)");
	assert_string_equal(e.sort_key, "fedora");
	assert_string_equal(e.machine_id, "6a9857a393724b7a981ebb5b8495b9ea");
	assert_string_equal(e.version, "3.8.0-2.fc19.x86_64");
	assert_string_equal(e.options, "root=UUID=6d3376e4-fc93-4509-95ec-a21d68011da2 quiet");
	assert_string_equal(e.linux_path,
			    "/6a9857a393724b7a981ebb5b8495b9ea/3.8.0-2.fc19.x86_64/linux");
	assert_int_equal(e.nr_initrd, 1);
	assert_string_equal(e.initrd[0],
			    "/6a9857a393724b7a981ebb5b8495b9ea/3.8.0-2.fc19.x86_64/initrd");
	assert_int_equal(e.tries_left, -1);
	assert_int_equal(e.tries_done, -1);
}

static void test_syntax(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(parse("\n\n   # indented comment\n"
			       "#title not this\n"
			       "\ttitle\t Debian  GNU/Linux \t \r\n"
			       "options root=/dev/vda2 ro\n"
			       "  options\tquiet   splash  \n"
			       "\r\n"
			       "linux /vmlinuz-6.1.0-56-amd64\n"
			       "initrd /microcode.img\n"
			       "initrd /initrd.img-6.1.0-56-amd64\n"
			       "devicetree /dtb\n"
			       "devicetree-overlay /a.dtbo /b.dtbo\n"
			       "efi /EFI/other.efi\n"
			       "unknown-key whatever\n"
			       "linuxefi /not-the-linux-key\n"
			       "version\n"
			       "title   \n"
			       "options console=ttyS0,115200", /* no final newline */
			       "debian.conf", &e, &why),
			 0);
	assert_string_equal(e.id, "debian");
	assert_string_equal(e.title, "Debian  GNU/Linux"); /* inner blanks kept */
	assert_string_equal(e.options, "root=/dev/vda2 ro quiet   splash console=ttyS0,115200");
	assert_string_equal(e.linux_path, "/vmlinuz-6.1.0-56-amd64");
	assert_int_equal(e.nr_initrd, 2);
	assert_string_equal(e.initrd[0], "/microcode.img");
	assert_string_equal(e.initrd[1], "/initrd.img-6.1.0-56-amd64");
	assert_string_equal(e.version, "");
	assert_string_equal(e.sort_key, "");

	/* The last of a repeated single-valued key counts. */
	assert_int_equal(parse("linux /a\nlinux /b\ntitle one\ntitle two\n", "x", &e, &why), 0);
	assert_string_equal(e.linux_path, "/b");
	assert_string_equal(e.title, "two");
}

static void test_initrds(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(
	    parse("linux /k\ninitrd /1\ninitrd /2\ninitrd /3\ninitrd /4\n", "x", &e, &why), 0);
	assert_int_equal(e.nr_initrd, 4);
	assert_string_equal(e.initrd[3], "/4");
	assert_int_equal(parse("linux /k\ninitrd /1\ninitrd /2\ninitrd /3\ninitrd /4\ninitrd /5\n",
			       "x", &e, &why),
			 -FW_EINVAL);
	assert_string_equal(why, "more than 4 initrd keys");
}

static void test_architecture(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(parse("architecture X64\nlinux /k\n", "x", &e, &why), 0);
	assert_int_equal(parse("architecture x64\nlinux /k\n", "x", &e, &why), 0);
	assert_int_equal(parse("linux /k\narchitecture aa64\n", "x", &e, &why), -FW_ENOTSUP);
	assert_string_equal(why, "entry for another architecture than x64");
	assert_int_equal(parse("linux /k\narchitecture IA32\n", "x", &e, &why), -FW_ENOTSUP);
	assert_int_equal(parse("linux /k\narchitecture x64x\n", "x", &e, &why), -FW_ENOTSUP);
}

static void test_missing_linux(void **state)
{
	const char *why;

	(void)state;
	assert_int_equal(parse("title T\ninitrd /i\noptions quiet\n", "x", &e, &why), -FW_EINVAL);
	assert_string_equal(why, "no linux key");
	assert_int_equal(parse("", "x", &e, &why), -FW_EINVAL);
	assert_string_equal(why, "no linux key");
	assert_int_equal(parse("linux\n", "x", &e, &why), -FW_EINVAL);
	assert_int_equal(parse("title T\nefi /EFI/Linux/x.efi\n", "x", &e, &why), -FW_ENOTSUP);
	assert_string_equal(why, "EFI program entry (no linux key)");
}

/* A line "key <n times c>". */
static char *line(const char *key, size_t n)
{
	size_t k = strlen(key);
	char *s = malloc(k + n + 3);

	memcpy(s, key, k);
	s[k] = ' ';
	memset(s + k + 1, 'v', n);
	s[k + 1 + n] = '\n';
	s[k + 2 + n] = '\0';
	return s;
}

/* key with a value of exactly cap - 1 bytes parses; one more byte is refused with why. */
static void check_limit(const char *key, size_t cap, const char *want_why)
{
	char text[4096];
	const char *why;
	char *l;

	l = line(key, cap - 1);
	snprintf(text, sizeof(text), "linux /k\n%s", l);
	free(l);
	if (parse(text, "x", &e, &why))
		fail_msg("%s of %zu bytes refused: %s", key, cap - 1, why);
	l = line(key, cap);
	snprintf(text, sizeof(text), "linux /k\n%s", l);
	free(l);
	assert_int_equal(parse(text, "x", &e, &why), -FW_EINVAL);
	assert_string_equal(why, want_why);
}

static void test_too_long(void **state)
{
	struct bls_entry *p = NULL;
	char text[4096], *l;
	const char *why;

	(void)state;
	check_limit("title", sizeof(p->title), "title value too long");
	check_limit("version", sizeof(p->version), "version value too long");
	check_limit("sort-key", sizeof(p->sort_key), "sort-key value too long");
	check_limit("machine-id", sizeof(p->machine_id), "machine-id value too long");
	check_limit("initrd", BLS_PATH_MAX, "initrd value too long");
	check_limit("options", BLS_OPTIONS_MAX, "options too long");

	l = line("linux", BLS_PATH_MAX);
	assert_int_equal(parse(l, "x", &e, &why), -FW_EINVAL);
	assert_string_equal(why, "linux value too long");
	free(l);

	/* Options lines that only together exceed the limit: 3 * 340 + 2 separators = 1022. */
	l = line("options", 340);
	snprintf(text, sizeof(text), "linux /k\n%s%s%s", l, l, l);
	assert_int_equal(parse(text, "x", &e, &why), 0);
	assert_int_equal(strlen(e.options), 1022);
	snprintf(text, sizeof(text), "linux /k\n%s%s%soptions x\n", l, l, l);
	assert_int_equal(parse(text, "x", &e, &why), -FW_EINVAL);
	assert_string_equal(why, "options too long");
	free(l);
}

static void test_nul_and_id(void **state)
{
	static const char text[] = "linux /k\0\ntitle t\n";
	char id[BLS_ID_MAX + 10];
	const char *why;

	(void)state;
	assert_int_equal(bls_parse(text, sizeof(text) - 1, "x", &e, &why), -FW_EINVAL);
	assert_string_equal(why, "NUL byte in the entry");

	memset(id, 'a', sizeof(id));
	id[BLS_ID_MAX - 1] = '\0';
	assert_int_equal(parse("linux /k\n", id, &e, &why), 0);
	assert_int_equal(strlen(e.id), BLS_ID_MAX - 1);
	id[BLS_ID_MAX - 1] = 'a';
	id[BLS_ID_MAX] = '\0';
	assert_int_equal(parse("linux /k\n", id, &e, &why), -FW_EINVAL);
	assert_string_equal(why, "entry file name empty or too long");
	memcpy(id + BLS_ID_MAX - 1, ".conf", 6); /* fits once ".conf" is gone */
	assert_int_equal(parse("linux /k\n", id, &e, &why), 0);
	assert_int_equal(parse("linux /k\n", "", &e, &why), -FW_EINVAL);
	assert_int_equal(parse("linux /k\n", ".conf", &e, &why), 0);
	assert_string_equal(e.id, ".conf");
}

static void test_boot_counting(void **state)
{
	static const struct {
		const char *id;
		int left, done;
	} cases[] = {
		{ "fedora+3", 3, 0 },	   { "fedora+3-1.conf", 3, 1 },
		{ "a+0-5", 0, 5 },	   { "a+b+2-0", 2, 0 },
		{ "a+12", 12, 0 },	   { "a+3-", -1, -1 },
		{ "a+-1", -1, -1 },	   { "a+x", -1, -1 },
		{ "a+3x", -1, -1 },	   { "a+1234567", -1, -1 },
		{ "a+999999", 999999, 0 }, { "a+1-2-3", -1, -1 },
		{ "no-counter", -1, -1 },  { "a+", -1, -1 },
	};
	const char *why;

	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(parse("linux /k\n", cases[i].id, &e, &why), 0);
		if (e.tries_left != cases[i].left || e.tries_done != cases[i].done)
			fail_msg("%s: %d/%d, want %d/%d", cases[i].id, e.tries_left, e.tries_done,
				 cases[i].left, cases[i].done);
	}
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

/* vercmp(a, b) has the sign want, and the reverse the opposite. */
static void vercmp_is(const char *a, const char *b, int want)
{
	int r = bls_vercmp(a, b), rr = bls_vercmp(b, a);

	if (sign(r) != want || sign(rr) != -want || r != sign(r))
		fail_msg("vercmp(\"%s\", \"%s\") = %d, reverse %d, want %d", a, b, r, rr, want);
}

static void test_vercmp_spec_examples(void **state)
{
	(void)state;
	/* UAPI Version Format Specification, "Examples". */
	vercmp_is("11", "11", 0);
	vercmp_is("systemd-123", "systemd-123", 0);
	vercmp_is("bar-123", "foo-123", -1);
	vercmp_is("123a", "123", 1);
	vercmp_is("123.a", "123", 1);
	vercmp_is("123.a", "123.b", -1);
	vercmp_is("123a", "123.a", 1);
	vercmp_is("11\xce\xb1", "11\xce\xb2", 0); /* 11α == 11β */
	vercmp_is("A", "a", -1);
	vercmp_is("", "0", -1);
	vercmp_is("0.", "0", 1);
	vercmp_is("0.0", "0", 1);
	vercmp_is("1_", "1", 0);
	vercmp_is("_1", "1", 0);
	vercmp_is("1_", "1.2", -1);
	vercmp_is("1_2_3", "1.3.3", 1);
	vercmp_is("1+", "1", 0);
	vercmp_is("+1", "1", 0);
	vercmp_is("1+", "1.2", -1);
	vercmp_is("1+2+3", "1.3.3", 1);
	/*
	 * The examples `0` < `~` and '' < `~` contradict the specification's own
	 * step 3 and systemd; '~' sorts lowest, as systemd-analyze compare-versions says.
	 */
	vercmp_is("0", "~", 1);
	vercmp_is("", "~", 1);
}

static void test_vercmp_order(void **state)
{
	/* systemd's strverscmp_improved() ordering, oldest first. */
	static const char *const order[] = {
		"122.1",   "123~rc1-1", "123",	   "123-a",   "123-a.1", "123-1",
		"123-1.1", "123^post1", "123.a-1", "123.1-1", "123a-1",	 "124-1",
	};

	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(order); i++)
		for (u32 j = 0; j < ARRAY_SIZE(order); j++)
			vercmp_is(order[i], order[j], i < j ? -1 : i > j);
	vercmp_is("1~rc1", "1", -1);
	vercmp_is("1~~", "1~", 1); /* both skip a '~', then "~" is longer than "" (steps 3, 4) */
	vercmp_is("1~~a", "1~~", 1);
	vercmp_is("001", "1", 0);
	vercmp_is("1.01", "1.1", 0);
	vercmp_is("9", "10", -1);
	vercmp_is("99999999999999999999", "9999999999999999999", 1);
	vercmp_is("6.1.0-56-amd64", "6.1.0-9-amd64", 1);
	vercmp_is("5.19.0", "6.1.0-rc1", -1);
	vercmp_is("a", "1", -1); /* a number is newer than letters */
	vercmp_is("1.a", "1.1", -1);
	vercmp_is("--", "-", 1);
	vercmp_is("~", "~", 0);
	vercmp_is("^", "", 1);
	vercmp_is(".", "-", 1);
}

static void entry(struct bls_entry *x, const char *id, const char *sort_key, const char *machine,
		  const char *version)
{
	char text[512];
	const char *why;

	snprintf(text, sizeof(text), "linux /k\n%s%s\n%s%s\n%s%s\n", *sort_key ? "sort-key " : "",
		 sort_key, *machine ? "machine-id " : "", machine, *version ? "version " : "",
		 version);
	assert_int_equal(parse(text, id, x, &why), 0);
}

static int cmp(const void *a, const void *b)
{
	return bls_compare(a, b);
}

/* Sorts the entries from every rotation of their order and checks the result. */
static void check_order(struct bls_entry *list, u32 n, const char *const *want)
{
	struct bls_entry *tmp = malloc(sizeof(*tmp) * n);

	for (u32 r = 0; r < n; r++) {
		for (u32 i = 0; i < n; i++)
			tmp[i] = list[(i + r) % n];
		qsort(tmp, n, sizeof(*tmp), cmp);
		for (u32 i = 0; i < n; i++)
			if (strcmp(tmp[i].id, want[i]))
				fail_msg("rotation %u: position %u is %s, want %s", r, i, tmp[i].id,
					 want[i]);
	}
	for (u32 i = 0; i < n; i++)
		for (u32 j = 0; j < n; j++)
			assert_int_equal(sign(bls_compare(&list[i], &list[j])),
					 -sign(bls_compare(&list[j], &list[i])));
	free(tmp);
}

static void test_sorting(void **state)
{
	static struct bls_entry list[9];
	/* systemd's test-bootspec case: sort-key first, newest version first, then ids. */
	static const char *const want[] = { "d", "cx", "c", "b", "a-10", "a-5" };
	static const char *const want2[] = { "k-nomachine", "k-m1-new",	 "k-m1-old",
					     "k-m2",	    "zz-5",	 "zz-4",
					     "zz-3~rc1",    "bad-key+0", "bad+0-2" };

	(void)state;
	entry(&list[0], "a-10.conf", "", "dd235d00696545768f6f693bfd23b15f", "10");
	entry(&list[1], "a-5.conf", "", "dd235d00696545768f6f693bfd23b15f", "5");
	entry(&list[2], "b.conf", "", "b75451ad92f94feeab50b0b442768dbd", "3");
	entry(&list[3], "c.conf", "xxxx", "309de666fd5044268a9a26541ac93176", "5");
	entry(&list[4], "cx.conf", "xxxx", "309de666fd5044268a9a26541ac93176", "10");
	entry(&list[5], "d.conf", "kkkk", "81c6e3147cf544c19006af023e22b292", "100");
	check_order(list, 6, want);

	/* Bad entries last; machine-id increasing with empty first; ids by decreasing version. */
	entry(&list[0], "bad+0-2", "", "", "");
	entry(&list[1], "zz-3~rc1", "", "", "");
	entry(&list[2], "k-m2", "k", "m2", "1");
	entry(&list[3], "zz-4", "", "", "");
	entry(&list[4], "k-m1-old", "k", "m1", "1.9");
	entry(&list[5], "bad-key+0", "a", "", "9");
	entry(&list[6], "k-m1-new", "k", "m1", "1.10");
	entry(&list[7], "zz-5+3-0", "", "", "");
	entry(&list[8], "k-nomachine", "k", "", "0");
	strcpy(list[7].id, "zz-5"); /* counted but not bad, named for the table */
	list[7].tries_left = 3;
	check_order(list, 9, want2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_initrds),
		cmocka_unit_test(test_architecture),
		cmocka_unit_test(test_missing_linux),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_nul_and_id),
		cmocka_unit_test(test_boot_counting),
		cmocka_unit_test(test_vercmp_spec_examples),
		cmocka_unit_test(test_vercmp_order),
		cmocka_unit_test(test_sorting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
