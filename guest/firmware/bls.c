/*
 * Boot Loader Specification type #1 entries: the line format of the
 * "Type #1 Boot Loader Entry Keys" section, the "Sorting" rules, and the
 * UAPI Version Format Specification's comparison.
 */
#include "bls.h"

/* A single-valued key stored as a string member of struct bls_entry. */
struct bls_field {
	const char *key;
	size_t off, cap;
	const char *too_long;
};

#define BLS_FIELD(k, member)                                                                    \
	{                                                                                       \
		k, offsetof(struct bls_entry, member), sizeof(((struct bls_entry *)0)->member), \
		    k " value too long"                                                         \
	}

static const struct bls_field bls_fields[] = {
	BLS_FIELD("title", title),	     BLS_FIELD("version", version),
	BLS_FIELD("machine-id", machine_id), BLS_FIELD("sort-key", sort_key),
	BLS_FIELD("linux", linux_path),
};

struct bls_state {
	bool other_arch;
	bool has_efi;
};

static bool bls_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static char bls_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The first c in s[0, n), or NULL (the firmware's library has no memchr). */
static const char *bls_find(const char *s, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == c)
			return s + i;
	return NULL;
}

/* Does the counted string s (n bytes) equal the NUL-terminated word? */
static bool bls_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(s, word, n);
}

static bool bls_is_nocase(const char *s, size_t n, const char *word)
{
	if (strlen(word) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (bls_lower(s[i]) != bls_lower(word[i]))
			return false;
	return true;
}

/* Copies n bytes plus a NUL into dst of cap bytes; false if it does not fit. */
static bool bls_copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return true;
}

static int bls_options(struct bls_entry *e, const char *v, size_t n, const char **why)
{
	size_t have = strlen(e->options), sep = have ? 1 : 0;

	if (have + sep + n >= sizeof(e->options)) {
		*why = "options too long";
		return -FW_EINVAL;
	}
	if (sep)
		e->options[have] = ' ';
	memcpy(e->options + have + sep, v, n);
	e->options[have + sep + n] = '\0';
	return 0;
}

/* One key with its non-empty value. */
static int bls_key(struct bls_entry *e, struct bls_state *st, const char *k, size_t kn,
		   const char *v, size_t vn, const char **why)
{
	for (size_t i = 0; i < ARRAY_SIZE(bls_fields); i++) {
		const struct bls_field *f = &bls_fields[i];

		if (!bls_is(k, kn, f->key))
			continue;
		if (!bls_copy((char *)e + f->off, f->cap, v, vn)) {
			*why = f->too_long;
			return -FW_EINVAL;
		}
		return 0;
	}
	if (bls_is(k, kn, "initrd")) {
		if (e->nr_initrd == BLS_MAX_INITRD) {
			*why = "more than 4 initrd keys";
			return -FW_EINVAL;
		}
		if (!bls_copy(e->initrd[e->nr_initrd], BLS_PATH_MAX, v, vn)) {
			*why = "initrd value too long";
			return -FW_EINVAL;
		}
		e->nr_initrd++;
	} else if (bls_is(k, kn, "options")) {
		return bls_options(e, v, vn, why);
	} else if (bls_is(k, kn, "architecture")) {
		st->other_arch |= !bls_is_nocase(v, vn, "x64");
	} else if (bls_is(k, kn, "efi")) {
		st->has_efi = true;
	}
	/* devicetree, devicetree-overlay and unknown keys: nothing to do. */
	return 0;
}

/* One line without its '\n': blanks trimmed, comments and empty lines skipped. */
static int bls_line(struct bls_entry *e, struct bls_state *st, const char *s, size_t n,
		    const char **why)
{
	size_t k = 0, v;

	while (n && bls_blank(*s)) {
		s++;
		n--;
	}
	while (n && bls_blank(s[n - 1]))
		n--;
	if (!n || *s == '#')
		return 0;
	while (k < n && !bls_blank(s[k]))
		k++;
	for (v = k; v < n && bls_blank(s[v]); v++)
		;
	if (v == n)
		return 0; /* a key without a value */
	return bls_key(e, st, s, k, s + v, n - v, why);
}

/* Parses a decimal number of at most 6 digits at s[*i]; false if there is none. */
static bool bls_counter_num(const char *s, size_t *i, int *out)
{
	size_t start = *i;
	int v = 0;

	while (s[*i] >= '0' && s[*i] <= '9' && *i - start < 6)
		v = v * 10 + (s[(*i)++] - '0');
	*out = v;
	return *i > start && !(s[*i] >= '0' && s[*i] <= '9');
}

/* Boot counting: "+LEFT" or "+LEFT-DONE" ending the id. */
static void bls_counter(struct bls_entry *e)
{
	const char *plus = NULL;
	int left, done = 0;
	size_t i;

	e->tries_left = e->tries_done = -1;
	for (const char *p = e->id; *p; p++)
		if (*p == '+')
			plus = p;
	if (!plus)
		return;
	i = 1;
	if (!bls_counter_num(plus, &i, &left))
		return;
	if (plus[i] == '-') {
		i++;
		if (!bls_counter_num(plus, &i, &done))
			return;
	}
	if (plus[i])
		return;
	e->tries_left = left;
	e->tries_done = done;
}

static int bls_set_id(struct bls_entry *e, const char *id, const char **why)
{
	size_t n = strlen(id);

	if (n > 5 && !memcmp(id + n - 5, ".conf", 5))
		n -= 5;
	if (!n || !bls_copy(e->id, sizeof(e->id), id, n)) {
		*why = "entry file name empty or too long";
		return -FW_EINVAL;
	}
	bls_counter(e);
	return 0;
}

int bls_parse(const char *text, size_t len, const char *id, struct bls_entry *e, const char **why)
{
	struct bls_state st = { false, false };
	const char *dummy;
	size_t pos = 0;
	int rc;

	if (!why)
		why = &dummy;
	*why = NULL;
	memset(e, 0, sizeof(*e));
	rc = bls_set_id(e, id, why);
	if (rc)
		return rc;
	if (bls_find(text, len, '\0')) {
		*why = "NUL byte in the entry";
		return -FW_EINVAL;
	}
	while (pos < len) {
		const char *line = text + pos, *nl = bls_find(line, len - pos, '\n');
		size_t n = nl ? (size_t)(nl - line) : len - pos;

		rc = bls_line(e, &st, line, n, why);
		if (rc)
			return rc;
		pos += n + 1;
	}
	if (st.other_arch) {
		*why = "entry for another architecture than x64";
		return -FW_ENOTSUP;
	}
	if (!e->linux_path[0]) {
		*why = st.has_efi ? "EFI program entry (no linux key)" : "no linux key";
		return st.has_efi ? -FW_ENOTSUP : -FW_EINVAL;
	}
	return 0;
}

static int bls_sign(int v)
{
	return (v > 0) - (v < 0);
}

static bool ver_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool ver_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool ver_valid(char c)
{
	return ver_digit(c) || ver_alpha(c) || c == '~' || c == '-' || c == '^' || c == '.';
}

/*
 * A separator both strings may start with: if only one does, it is the
 * older one (*r = -1 for a); if both do, both skip it. Returns true if *r
 * decides the comparison.
 */
static bool ver_prefix(const char **a, const char **b, char sep, int *r)
{
	if (**a != sep && **b != sep)
		return false;
	if (**a != sep || **b != sep) {
		*r = **a == sep ? -1 : 1;
		return true;
	}
	(*a)++;
	(*b)++;
	return false;
}

/* Compares the leading numeric (or else alphabetic) segments and moves past them. */
static int ver_segment(const char **pa, const char **pb)
{
	const char *a = *pa, *b = *pb, *ea = a, *eb = b;
	bool num = ver_digit(*a) || ver_digit(*b);
	size_t la, lb;
	int r;

	while (num ? ver_digit(*ea) : ver_alpha(*ea))
		ea++;
	while (num ? ver_digit(*eb) : ver_alpha(*eb))
		eb++;
	*pa = ea;
	*pb = eb;
	if (num) {
		/* A number is newer than no number; then by value, ignoring leading zeros. */
		if ((a == ea) != (b == eb))
			return a == ea ? -1 : 1;
		while (*a == '0')
			a++;
		while (*b == '0')
			b++;
		if (ea - a != eb - b)
			return ea - a < eb - b ? -1 : 1;
		return bls_sign(memcmp(a, b, (size_t)(ea - a)));
	}
	/* Letters by ASCII ('A' < 'a'); a longer run of letters is newer. */
	la = (size_t)(ea - a);
	lb = (size_t)(eb - b);
	r = memcmp(a, b, MIN(la, lb));
	if (r)
		return bls_sign(r);
	return la == lb ? 0 : la < lb ? -1 : 1;
}

int bls_vercmp(const char *a, const char *b)
{
	int r;

	for (;;) {
		while (*a && !ver_valid(*a))
			a++;
		while (*b && !ver_valid(*b))
			b++;
		/* '~' sorts before everything, even the end of the string. */
		if (ver_prefix(&a, &b, '~', &r))
			return r;
		if (!*a || !*b)
			return (*a != '\0') - (*b != '\0');
		if (ver_prefix(&a, &b, '-', &r) || ver_prefix(&a, &b, '^', &r) ||
		    ver_prefix(&a, &b, '.', &r))
			return r;
		r = ver_segment(&a, &b);
		if (r)
			return r;
	}
}

int bls_compare(const struct bls_entry *a, const struct bls_entry *b)
{
	bool bad_a = a->tries_left == 0, bad_b = b->tries_left == 0;
	bool key_a = a->sort_key[0], key_b = b->sort_key[0];
	int r;

	if (bad_a != bad_b)
		return bad_a ? 1 : -1;
	if (key_a != key_b)
		return key_a ? -1 : 1;
	if (key_a) {
		r = bls_sign(strcmp(a->sort_key, b->sort_key));
		if (!r)
			r = bls_sign(strcmp(a->machine_id, b->machine_id));
		if (!r)
			r = -bls_vercmp(a->version, b->version);
		if (r)
			return r;
	}
	r = -bls_vercmp(a->id, b->id);
	return r ? r : bls_sign(strcmp(a->id, b->id));
}
