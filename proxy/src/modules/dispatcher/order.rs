//! The order `dispatcher.list` prints sets in, as Kamailio: it keeps the sets in an AVL tree
//! keyed by id, built by inserting each set when its first line is read, and prints the tree
//! children first (lower subtree, higher subtree, then the node). A standard AVL insertion
//! gives the same tree for the same insertion sequence, so replaying it gives the same order.

struct Node {
    id: i64,
    height: i32,
    lower: Option<Box<Node>>,
    higher: Option<Box<Node>>,
}

fn height(n: &Option<Box<Node>>) -> i32 {
    n.as_ref().map_or(0, |n| n.height)
}

fn fix(n: &mut Node) {
    n.height = 1 + height(&n.lower).max(height(&n.higher));
}

fn rotate_right(mut n: Box<Node>) -> Box<Node> {
    let Some(mut l) = n.lower.take() else {
        return n;
    };
    n.lower = l.higher.take();
    fix(&mut n);
    l.higher = Some(n);
    fix(&mut l);
    l
}

fn rotate_left(mut n: Box<Node>) -> Box<Node> {
    let Some(mut r) = n.higher.take() else {
        return n;
    };
    n.higher = r.lower.take();
    fix(&mut n);
    r.lower = Some(n);
    fix(&mut r);
    r
}

fn insert(n: Option<Box<Node>>, id: i64) -> Box<Node> {
    let Some(mut n) = n else {
        return Box::new(Node {
            id,
            height: 1,
            lower: None,
            higher: None,
        });
    };
    if id == n.id {
        return n;
    }
    if id < n.id {
        n.lower = Some(insert(n.lower.take(), id));
    } else {
        n.higher = Some(insert(n.higher.take(), id));
    }
    fix(&mut n);
    let balance = height(&n.lower) - height(&n.higher);
    if balance > 1 {
        if n.lower.as_ref().is_some_and(|l| id > l.id) {
            n.lower = n.lower.take().map(rotate_left);
        }
        return rotate_right(n);
    }
    if balance < -1 {
        if n.higher.as_ref().is_some_and(|h| id < h.id) {
            n.higher = n.higher.take().map(rotate_right);
        }
        return rotate_left(n);
    }
    n
}

fn post_order(n: &Option<Box<Node>>, out: &mut Vec<i64>) {
    if let Some(n) = n {
        post_order(&n.lower, out);
        post_order(&n.higher, out);
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
