"""Key components: sensor, actuator, controller-loop and battery models, and the parts catalog."""

from laoshan.components.catalog import Catalog, CatalogError, load_catalog

__all__ = ["Catalog", "CatalogError", "load_catalog"]
