//! The order `dispatcher.list` prints sets in, as Kamailio: it keeps the sets in an AVL tree
//! keyed by id, built by inserting each set when its first line is read, and prints the tree
//! children first (lower subtree, higher subtree, then the node). A standard AVL insertion
//! gives the same tree for the same insertion sequence, so replaying it gives the same order.

/// Which child: `kids[LOWER]` holds the smaller ids, `kids[HIGHER]` the larger.
const LOWER: usize = 0;
const HIGHER: usize = 1;

struct Node {
    id: i64,
    height: i32,
    kids: [Option<Box<Node>>; 2],
}

fn height(n: &Option<Box<Node>>) -> i32 {
    n.as_ref().map_or(0, |n| n.height)
}

fn fix(n: &mut Node) {
    n.height = 1 + height(&n.kids[LOWER]).max(height(&n.kids[HIGHER]));
}

/// The side of `n` where `id` goes.
fn side(n: &Node, id: i64) -> usize {
    if id < n.id {
        LOWER
    } else {
        HIGHER
    }
}

/// Lifts `n`'s child on side `s` into its place (`LOWER`: a right rotation, `HIGHER`: left).
fn rotate(mut n: Box<Node>, s: usize) -> Box<Node> {
    let Some(mut c) = n.kids[s].take() else {
        return n;
    };
    n.kids[s] = c.kids[1 - s].take();
    fix(&mut n);
    c.kids[1 - s] = Some(n);
    fix(&mut c);
    c
}

fn insert(n: Option<Box<Node>>, id: i64) -> Box<Node> {
    let Some(mut n) = n else {
        return Box::new(Node {
            id,
            height: 1,
            kids: [None, None],
        });
    };
    if id == n.id {
        return n;
    }
    let s = side(&n, id);
    n.kids[s] = Some(insert(n.kids[s].take(), id));
    fix(&mut n);
    let heavy = match height(&n.kids[LOWER]) - height(&n.kids[HIGHER]) {
        b if b > 1 => LOWER,
        b if b < -1 => HIGHER,
        _ => return n,
    };
    // The new id went to the inner grandchild: a double rotation.
    if n.kids[heavy].as_ref().is_some_and(|c| side(c, id) != heavy) {
        n.kids[heavy] = n.kids[heavy].take().map(|c| rotate(c, 1 - heavy));
    }
    rotate(n, heavy)
}

fn post_order(n: &Option<Box<Node>>, out: &mut Vec<i64>) {
    if let Some(n) = n {
        post_order(&n.kids[LOWER], out);
        post_order(&n.kids[HIGHER], out);
        out.push(n.id);
    }
}

/// Set ids in Kamailio's listing order, from the ids in the order they were first read.
pub fn listing_order(first_seen: &[i64]) -> Vec<i64> {
    let mut root = None;
    for &id in first_seen {
        root = Some(insert(root, id));
    }
    let mut out = Vec::with_capacity(first_seen.len());
    post_order(&root, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::listing_order;

    #[test]
    fn orders() {
        // The transcript: sets 1 then 2 print as 2, 1.
        assert_eq!(listing_order(&[1, 2]), [2, 1]);
        assert_eq!(listing_order(&[2, 1]), [1, 2]);
        // 1, 2, 3 rotate to 2 over 1 and 3.
        assert_eq!(listing_order(&[1, 2, 3]), [1, 3, 2]);
        // 3, 1, 2: a double rotation, 2 over 1 and 3.
        assert_eq!(listing_order(&[3, 1, 2]), [1, 3, 2]);
        assert_eq!(listing_order(&[1, 2, 3, 4, 5, 6, 7]), [1, 3, 2, 5, 7, 6, 4]);
        // Checked against Kamailio 5.6.3's dispatcher.list on loopback.
        assert_eq!(
            listing_order(&[5, 9, 2, 7, 1, 3, 8, 4]),
            [1, 4, 3, 2, 7, 9, 8, 5]
        );
        assert_eq!(listing_order(&[5]), [5]);
        assert!(listing_order(&[]).is_empty());
    }
}
