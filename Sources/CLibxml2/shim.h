/* libxml2's tree API, for reading libvirt domain XML (Sources/Guestfs/LibvirtXML.swift). */
#include <libxml/xmlversion.h>
/* Debian's libxml2 is built with ICU, so encoding.h would pull in ICU's
 * headers, which clash with the copy Foundation carries. Nothing used here
 * needs them: only the layout of xmlCharEncodingHandler (never touched from
 * Swift) depends on this. */
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

/* xmlFree is a variable holding a function pointer (a macro in some
 * builds): call it from C. */
static inline void guestfs_xml_free(void *p) {
    if (p) xmlFree(p);
}
