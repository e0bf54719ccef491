/*
 * collate.c - String.prototype.localeCompare() as ICU root collation
 * orders strings, reduced to what release-notes-generator sorts: a table
 * of the Latin, punctuation and currency characters in ICU's order, and
 * sort keys (primary, secondary, tertiary weights) compared with memcmp().
 */
#include "core/release/release_int.h"

/*
 * The characters of ASCII, Latin-1, Latin Extended-A, General Punctuation
 * and Currency Symbols in ICU root collation order: \001 starts the next
 * primary weight, \002 the next secondary (accent) within one; inside those,
 * the tertiary (case) order. Generated with Node 20's Intl.Collator("und")
 * (sort, then sensitivity "base" and "accent" to split the runs).
 */
static const char collation_table[] =
	"\t\001\n\001\v\001\f\001\r\001\302\205\001\342\200\250\001\342"
	"\200\251\001 \342\200\200\342\200\201\342\200\202\342\200\203"
	"\342\200\204\342\200\205\342\200\206\342\200\210\342\200\211\342"
	"\200\212\302\240\342\200\207\342\200\257\001‾\001_\001‗\001-\001"
	"‐‑\001‒\001–\001—\001―\001⁓\001,\001;\001⁏\001:\001!\001‼\001⁉"
	"\001¡\001\077\001⁈\001⁇\001¿\001‽\001.․\001‥\001…\001·\001⁕\001⁖"
	"\001⁘\001⁙\001⁚\001⁛\001⁜\001⁝\001⁞\001'\002‘\002’\002‚\002‛\001"
	"‹\001›\001\"\002“\002”\002„\002‟\001«\001»\001(\001)\001[\001]"
	"\001{\001}\001⁅\001⁆\001‖\001§\001¶\001⁋\001@\001*\001⁎\001⁑\001"
	"/\001\\\001&\001⁊\001#\001%\001‰\001‱\001†\001‡\001•\001‣\001‧"
	"\001⁃\001⁌\001⁍\001′\001″\001‴\001⁗\001‵\001‶\001‷\001‸\001※\001"
	"‿\001⁔\001⁀\001⁐\001⁁\001⁂\001`\001´\001^\001¯\001¨\001¸\001°"
	"\001©\001®\001+\001±\001÷\001×\001<\001=\001>\001¬\001|\001¦\001"
	"~\001⁒\001⁄\001¤\001¢\001$\001£\001¥\001₠\001₡\001₢\001₣\001₤"
	"\001₥\001₦\001₩\001₪\001₫\001€\001₭\001₮\001₯\001₰\001₱\001₲\001"
	"₳\001₴\001₵\001₶\001₷\001₸\001₹\001₺\001₻\001₼\001₽\001₾\001₿"
	"\001⃀\0010\0011¹\001½\001¼\0012²\0013³\001¾\0014\0015\0016\0017"
	"\0018\0019\001aAª\002áÁ\002àÀ\002ăĂ\002âÂ\002åÅ\002äÄ\002ãÃ\002ą"
	"Ą\002āĀ\001æÆ\001bB\001cC\002ćĆ\002ĉĈ\002čČ\002ċĊ\002çÇ\001dD"
	"\002ďĎ\002đĐ\002ðÐ\001eE\002éÉ\002èÈ\002ĕĔ\002êÊ\002ěĚ\002ëË\002"
	"ėĖ\002ęĘ\002ēĒ\001fF\001gG\002ğĞ\002ĝĜ\002ġĠ\002ģĢ\001hH\002ĥĤ"
	"\002ħĦ\001iI\002íÍ\002ìÌ\002ĭĬ\002îÎ\002ïÏ\002ĩĨ\002İ\002įĮ\002ī"
	"Ī\001ĳĲ\001ı\001jJ\002ĵĴ\001kK\002ķĶ\001lL\002ĺĹ\002ľĽ\002ļĻ\002"
	"łŁ\002ŀĿ\001mM\001nN\002ńŃ\002ňŇ\002ñÑ\002ņŅ\001ŋŊ\001oOº\002óÓ"
	"\002òÒ\002ŏŎ\002ôÔ\002öÖ\002őŐ\002õÕ\002øØ\002ōŌ\001œŒ\001pP\001"
	"₧\001qQ\001ĸ\001rR\002ŕŔ\002řŘ\002ŗŖ\001₨\001sS\002śŚ\002ŝŜ\002š"
	"Š\002şŞ\002ſ\001ß\001tT\002ťŤ\002ţŢ\001ŧŦ\001uU\002úÚ\002ùÙ\002ŭ"
	"Ŭ\002ûÛ\002ůŮ\002üÜ\002űŰ\002ũŨ\002ųŲ\002ūŪ\001vV\001wW\002ŵŴ"
	"\001xX\001yY\002ýÝ\002ŷŶ\002ÿŸ\001zZ\002źŹ\002žŽ\002żŻ\001þÞ\001"
	"ŉ\001µ";

/* Arrows sort after U+00AE, most other symbols (dingbats, emoji) after
 * U+2044. */
#define COLLATION_ARROWS  0xae
#define COLLATION_SYMBOLS 0x2044

static int entry_cmp(const void *a, const void *b)
{
	const struct collator_entry *x = a, *y = b;

	return x->cp < y->cp ? -1 : x->cp > y->cp;
}

void release_collator_init(struct collator *c)
{
	const unsigned char *p = (const unsigned char *)collation_table;
	size_t n = sizeof(collation_table) - 1, i = 0, alloc = 0;
	uint32_t rank = 1, cp;
	unsigned char sec = 1, ter = 1;

	memset(c, 0, sizeof(*c));
	while (i < n) {
		if (p[i] == 1 || p[i] == 2) {
			rank += p[i] == 1;
			sec = p[i] == 1 ? 1 : sec + 1;
			ter = 1;
			i++;
			continue;
		}
		i += utf8_next(&cp, p + i, n - i);
		ALLOC_GROW(c->e, c->nr + 1, alloc);
		c->e[c->nr].cp = cp;
		c->e[c->nr].ce.primary = (rank + 8) << 21;
		c->e[c->nr].ce.secondary = sec;
		c->e[c->nr++].ce.tertiary = ter++;
		if (cp == COLLATION_ARROWS)
			c->arrows = (rank + 8) << 21;
		if (cp == COLLATION_SYMBOLS)
			c->symbols = (rank + 8) << 21;
	}
	c->last = (rank + 9) << 21;
	qsort(c->e, c->nr, sizeof(*c->e), entry_cmp);
}

void release_collator_release(struct collator *c)
{
	free(c->e);
	memset(c, 0, sizeof(*c));
}

static struct collation_element collation_of(const struct collator *c,
					     uint32_t cp)
{
	struct collation_element ce = { 0, 1, 1 };
	struct collator_entry key = { cp, { 0, 0, 0 } }, *hit;

	hit = bsearch(&key, c->e, c->nr, sizeof(*c->e), entry_cmp);
	if (hit)
		return hit->ce;
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0xad ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2060 && cp <= 0x2064) || cp == 0xfeff)
		return ce; /* ignorable */
	if (cp >= 0x2190 && cp <= 0x21ff)
		ce.primary = c->arrows | cp;
	else if ((cp >= 0x2100 && cp <= 0x2bff) ||
		 (cp >= 0x1f000 && cp <= 0x1faff))
		ce.primary = c->symbols | cp;
	else
		ce.primary = c->last | cp;
	return ce;
}

/* The two letters a ligature sorts as (with a tertiary difference). */
static const char *ligature(uint32_t cp)
{
	switch (cp) {
	case 0xc6:
		return "AE";
	case 0xe6:
		return "ae";
	case 0x152:
		return "OE";
	case 0x153:
		return "oe";
	case 0xdf:
		return "ss";
	}
	return NULL;
}

/*
 * An ICU-style sort key: the primary weights, 0, the secondary weights,
 * 0, the tertiary weights; memcmp() of two keys orders the strings.
 */
void release_collation_key(struct strbuf *out, const struct collator *c,
			   const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	struct strbuf sec = STRBUF_INIT, ter = STRBUF_INIT;
	size_t n = strlen(s), i = 0;

	while (i < n) {
		uint32_t cp;
		const char *expand;
		struct collation_element ce;
		size_t j;

		i += utf8_next(&cp, p + i, n - i);
		expand = ligature(cp);
		for (j = 0; j < (expand ? 2 : 1); j++) {
			ce = collation_of(c, expand ? (unsigned char)expand[j]
						    : cp);
			if (!ce.primary)
				continue;
			if (expand)
				ce.tertiary = expand[j] < 'a' ? 4 : 3;
			strbuf_addch(out, (int)(ce.primary >> 24));
			strbuf_addch(out, (int)((ce.primary >> 16) & 0xff));
			strbuf_addch(out, (int)((ce.primary >> 8) & 0xff));
			strbuf_addch(out, (int)(ce.primary & 0xff));
			strbuf_addch(&sec, ce.secondary);
			strbuf_addch(&ter, ce.tertiary);
		}
	}
	strbuf_addch(out, 0);
	strbuf_add(out, sec.buf, sec.len);
	strbuf_addch(out, 0);
	strbuf_add(out, ter.buf, ter.len);
	strbuf_release(&sec);
	strbuf_release(&ter);
}

int release_key_cmp(const struct strbuf *a, const struct strbuf *b)
{
	int r = memcmp(a->buf, b->buf, a->len < b->len ? a->len : b->len);

	if (r)
		return r < 0 ? -1 : 1;
	return a->len < b->len ? -1 : a->len > b->len;
}

int release_collate(const char *a, const char *b)
{
	struct strbuf ka = STRBUF_INIT, kb = STRBUF_INIT;
	struct collator c;
	int r;

	release_collator_init(&c);
	release_collation_key(&ka, &c, a);
	release_collation_key(&kb, &c, b);
	r = release_key_cmp(&ka, &kb);
	strbuf_release(&ka);
	strbuf_release(&kb);
	release_collator_release(&c);
	return r;
}
