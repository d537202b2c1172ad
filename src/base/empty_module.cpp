// Placeholder so a module with no sources yet still forms a library.
namespace synq::detail {
int empty_module_anchor = 0;
}
