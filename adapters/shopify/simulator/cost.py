"""Calculated query cost and the leaky bucket, as the Admin API's rate-limit pages describe.

Requested cost is computed from the query before it runs: a scalar or enum field costs 0, an
object 1, a connection 2 plus ``first``/``last`` times the cost of one node, a mutation field
10. Actual cost is computed the same way over what came back (a connection counts the nodes it
returned). The bucket must hold the requested cost; the difference is refunded after.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    value_from_ast_untyped,
)

from adapters.shopify.simulator.clock import Clock

MUTATION_COST = 10
CONNECTION_COST = 2
Composite = GraphQLObjectType | GraphQLInterfaceType


class Bucket:
    """Points available to one access token: refilled at ``restore_rate`` per second up to
    ``maximum`` (a bucket starts full)."""

    def __init__(self, maximum: float, restore_rate: float, clock: Clock) -> None:
        self.maximum = maximum
        self.restore_rate = restore_rate
        self.clock = clock
        self._level = maximum
        self._at = clock.time()

    @property
    def available(self) -> float:
        now = self.clock.time()
        self._level = min(self.maximum, self._level + (now - self._at) * self.restore_rate)
        self._at = now
        return self._level

    def take(self, points: float) -> bool:
        """Reserve ``points``, or refuse (False) when fewer are available."""
        if self.available < points:
            return False
        self._level -= points
        return True

    def refund(self, points: float) -> None:
        self._level = min(self.maximum, self.available + points)

    def drain(self, points: float) -> None:
        """Take ``points`` unconditionally (other clients' pressure on a shared bucket)."""
        self._level = max(0.0, self.available - points)

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": float(self.maximum),
            "currentlyAvailable": float(int(self.available)),
            "restoreRate": float(self.restore_rate),
        }


class CostModel:
    """Cost of one operation against ``schema``."""

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.fragments = fragments
        self.variables = variables
        root = (
            schema.mutation_type
            if operation.operation == OperationType.MUTATION
            else schema.query_type
        )
        assert root is not None
        self.root: GraphQLObjectType = root
        self.is_mutation = operation.operation == OperationType.MUTATION

    # -- shared walking ---------------------------------------------------------------

    def _fields(
        self, selections: SelectionSetNode | None, parent: Composite
    ) -> list[tuple[FieldNode, Composite]]:
        """Field nodes of a selection set, fragments flattened, with the type they apply to."""
        found: list[tuple[FieldNode, Composite]] = []
        if selections is None:
            return found
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                found.append((selection, parent))
                continue
            if isinstance(selection, InlineFragmentNode):
                condition, inner = selection.type_condition, selection.selection_set
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                condition, inner = fragment.type_condition, fragment.selection_set
            else:
                continue
            target = parent
            if condition is not None:
                named = self.schema.get_type(condition.name.value)
                if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
                    target = named
            found.extend(self._fields(inner, target))
        return found

    def _argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments:
            if argument.name.value == name:
                return value_from_ast_untyped(argument.value, self.variables)
        return None

    def _child_type(self, node: FieldNode, parent: Composite) -> Any:
        definition = parent.fields.get(node.name.value)
        return None if definition is None else get_named_type(definition.type)

    # -- requested --------------------------------------------------------------------

    def requested(self) -> int:
        if self.is_mutation:
            return MUTATION_COST * len(self._fields(self.operation.selection_set, self.root))
        return self._requested_set(self.operation.selection_set, self.root)

    def _requested_set(self, selections: SelectionSetNode | None, parent: Composite) -> int:
        by_type: dict[str, int] = {}
        for node, owner in self._fields(selections, parent):
            by_type[owner.name] = by_type.get(owner.name, 0) + self._requested_field(node, owner)
        # Fragments on different concrete types are alternatives: the dearest one counts.
        own = by_type.pop(parent.name, 0)
        return own + max(by_type.values(), default=0)

    def _requested_field(self, node: FieldNode, parent: Composite) -> int:
        named = self._child_type(node, parent)
        if named is None or is_leaf_type(named):
            return 0
        if named.name.endswith("Connection"):
            size = self._argument(node, "first") or self._argument(node, "last") or 0
            return CONNECTION_COST + int(size) * self._node_cost(node, named)
        return 1 + self._requested_set(node.selection_set, named)

    def _node_cost(self, connection: FieldNode, named: Composite) -> int:
        costs = [0]
        for child, owner in self._fields(connection.selection_set, named):
            child_type = self._child_type(child, owner)
            if child.name.value == "nodes":
                costs.append(1 + self._requested_set(child.selection_set, child_type))
            elif child.name.value == "edges":
                for edge_child, edge_owner in self._fields(child.selection_set, child_type):
                    if edge_child.name.value == "node":
                        node_type = self._child_type(edge_child, edge_owner)
                        costs.append(1 + self._requested_set(edge_child.selection_set, node_type))
        return max(costs)

    # -- actual -----------------------------------------------------------------------

    def actual(self, data: dict[str, Any] | None) -> int:
        if data is None:
            return 0
        if self.is_mutation:
            return self.requested()
        return self._actual_set(self.operation.selection_set, self.root, data)

    def _actual_set(self, selections: SelectionSetNode | None, parent: Composite, data: Any) -> int:
        if not isinstance(data, dict):
            return 0
        total = 0
        typename = data.get("__typename")
        for node, owner in self._fields(selections, parent):
            if owner is not parent and typename is not None and owner.name != typename:
                continue
            key = node.alias.value if node.alias else node.name.value
            if key in data:
                total += self._actual_field(node, owner, data[key])
        return total

    def _actual_field(self, node: FieldNode, parent: Composite, value: Any) -> int:
        named = self._child_type(node, parent)
        if named is None or is_leaf_type(named):
            return 0
        if named.name.endswith("Connection"):
            if not isinstance(value, dict):
                return CONNECTION_COST
            returned = self._returned_nodes(node, named, value)
            return CONNECTION_COST + sum(returned)
        if value is None:
            return 1
        if isinstance(value, list):
            costs = [self._actual_set(node.selection_set, named, one) for one in value]
            return 1 + max(costs, default=0)
        return 1 + self._actual_set(node.selection_set, named, value)

    def _returned_nodes(
        self, connection: FieldNode, named: Composite, value: dict[str, Any]
    ) -> list[int]:
        best: list[int] = []
        for child, owner in self._fields(connection.selection_set, named):
            key = child.alias.value if child.alias else child.name.value
            child_type = self._child_type(child, owner)
            rows = value.get(key)
            if not isinstance(rows, list):
                continue
            if child.name.value == "nodes":
                costs = [1 + self._actual_set(child.selection_set, child_type, r) for r in rows]
            elif child.name.value == "edges":
                costs = []
                for edge_child, edge_owner in self._fields(child.selection_set, child_type):
                    if edge_child.name.value != "node":
                        continue
                    node_type = self._child_type(edge_child, edge_owner)
                    alias = edge_child.alias.value if edge_child.alias else "node"
                    costs = [
                        1 + self._actual_set(edge_child.selection_set, node_type, r.get(alias))
                        for r in rows
                        if isinstance(r, dict)
                    ]
            else:
                continue
            if sum(costs) > sum(best):
                best = costs
        return best
